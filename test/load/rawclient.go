package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"time"
)

// rawClient sends GET requests over one kept-alive HTTP/1.1 connection
// with as little work as HTTP allows, so that the load generator, sharing
// the machine's cores with verifyd, takes as little of them as it can;
// net/http's client costs several times more per request. It understands
// only what verifyd answers: a status line, headers, a Content-Length body.
type rawClient struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
	req  []byte
}

func newRawClient(addr string) *rawClient {
	return &rawClient{addr: addr, req: make([]byte, 0, 256)}
}

// get requests path and returns the status code once the body is read.
func (c *rawClient) get(path string) (int, error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, err
		}
		c.conn, c.r = conn, bufio.NewReaderSize(conn, 16<<10)
	}
	status, err := c.roundTrip(path)
	if err != nil {
		c.conn.Close()
		c.conn = nil
	}
	return status, err
}

func (c *rawClient) roundTrip(path string) (int, error) {
	if err := c.conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return 0, err
	}
	c.req = append(append(append(c.req[:0], "GET "...), path...), " HTTP/1.1\r\nHost: verifyd\r\n\r\n"...)
	if _, err := c.conn.Write(c.req); err != nil {
		return 0, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length := -1
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", value)
			}
		}
	}
	if length < 0 {
		return 0, fmt.Errorf("answer without Content-Length")
	}
	if _, err := c.r.Discard(length); err != nil {
		return 0, fmt.Errorf("body: %w", err)
	}
	return status, nil
}

func (c *rawClient) close() {
	if c.conn != nil {
		c.conn.Close()
	}
}
