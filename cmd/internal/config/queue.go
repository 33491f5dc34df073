package config

// QueueConfig chooses where accepted SMS messages wait for delivery.
type QueueConfig struct{}

// UsesRedis reports whether the queue lives on Redis.
func (QueueConfig) UsesRedis() bool { return false }

func (p *parser) queue() QueueConfig { return QueueConfig{} }
