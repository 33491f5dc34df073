package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// rawClient sends GET and POST requests over one kept-alive HTTP/1.1 connection
// with as little work as HTTP allows, so that the load generator, sharing
// the machine's cores with verifyd, takes as little of them as it can;
// net/http's client costs several times more per request. It understands
// only what verifyd answers: a status line, headers, a Content-Length body.
type rawClient struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
	req  []byte
	body []byte
}

func newRawClient(addr string) *rawClient {
	return &rawClient{addr: addr, req: make([]byte, 0, 256)}
}

// get requests path and returns the status code once the body is read.
func (c *rawClient) get(path string) (int, error) {
	status, _, err := c.do("GET", path, "", "", false)
	return status, err
}

// post sends body as JSON to path, with the extra header lines in header
// (each ending in CRLF), and returns the status and the answer's body, which
// is valid until the next call.
func (c *rawClient) post(path, header, body string) (int, []byte, error) {
	return c.do("POST", path, header, body, true)
}

func (c *rawClient) do(method, path, header, body string, keep bool) (int, []byte, error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, nil, err
		}
		c.conn, c.r = conn, bufio.NewReaderSize(conn, 16<<10)
	}
	status, got, err := c.roundTrip(method, path, header, body, keep)
	if err != nil {
		c.conn.Close()
		c.conn = nil
	}
	return status, got, err
}

func (c *rawClient) roundTrip(method, path, header, body string, keep bool) (int, []byte, error) {
	if err := c.conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return 0, nil, err
	}
	c.req = append(append(append(append(c.req[:0], method...), ' '), path...), " HTTP/1.1\r\nHost: verifyd\r\n"...)
	c.req = append(c.req, header...)
	if method == "POST" {
		c.req = append(c.req, "Content-Type: application/json\r\nContent-Length: "...)
		c.req = strconv.AppendInt(c.req, int64(len(body)), 10)
		c.req = append(c.req, "\r\n"...)
	}
	c.req = append(append(c.req, "\r\n"...), body...)
	if _, err := c.conn.Write(c.req); err != nil {
		return 0, nil, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	length := -1
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, nil, fmt.Errorf("bad Content-Length %q", value)
			}
		}
	}
	if length < 0 {
		return 0, nil, fmt.Errorf("answer without Content-Length")
	}
	if keep {
		if cap(c.body) < length {
			c.body = make([]byte, length)
		}
		c.body = c.body[:length]
		if _, err := io.ReadFull(c.r, c.body); err != nil {
			return 0, nil, fmt.Errorf("body: %w", err)
		}
		return status, c.body, nil
	}
	if _, err := c.r.Discard(length); err != nil {
		return 0, nil, fmt.Errorf("body: %w", err)
	}
	return status, nil, nil
}

func (c *rawClient) close() {
	if c.conn != nil {
		c.conn.Close()
	}
}
