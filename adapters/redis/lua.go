package redis

// Lua shared by the scripts of the store (the phone's quotas, issueScript and
// checkIssueScript) and of the limiter (takeScript, checkScript): one
// sliding-window rule, so a quota means the same in both.

// slidingWindowLua defines window_wait(key, now, from): for each (max,
// window ms) pair in ARGV from index from on, how many ms until the sorted
// set key (members scored by event time in ms) has fewer than max events in
// (now-window, now]; 0 when every pair has room. The event that has to leave
// is the (n-max+1)-th newest, at index n-max counting from the oldest.
// server_ms() is the server's clock in ms, so instances with skewed clocks
// agree; scripts read it only when a quota needs it.
const slidingWindowLua = `
local function window_wait(key, now, from)
  local wait = 0
  for i = from, #ARGV, 2 do
    local max = tonumber(ARGV[i])
    local win = tonumber(ARGV[i + 1])
    local lo = '(' .. (now - win)
    local n = redis.call('ZCOUNT', key, lo, '+inf')
    if n >= max then
      local ev = redis.call('ZRANGEBYSCORE', key, lo, '+inf', 'WITHSCORES', 'LIMIT', n - max, 1)
      local w = tonumber(ev[2]) + win - now
      if w > wait then wait = w end
    end
  end
  return wait
end
local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`
