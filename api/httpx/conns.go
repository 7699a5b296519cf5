package httpx

import (
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// LimitConnections returns a listener that keeps at most max connections of l open at once. A
// connection beyond that is not left waiting in the accept queue (where a client cannot tell a
// full server from a dead one): it is answered 503 with Retry-After and closed at once. With
// plainHTTP false (TLS above this listener) it is only closed, since no HTTP can be written
// before the handshake. max <= 0 means no limit.
//
// The limit bounds what slow or idle clients can hold: each open connection costs a goroutine
// and its buffers (some 10-20 KB), and a file descriptor.
func LimitConnections(l net.Listener, max int, plainHTTP bool) net.Listener {
	if max <= 0 {
		return l
	}
	return &limitListener{Listener: l, slots: make(chan struct{}, max), refusing: make(chan struct{}, maxRefusing), plainHTTP: plainHTTP}
}

// maxRefusing bounds the connections being answered 503 at once; beyond it, excess connections
// are closed without an answer.
const maxRefusing = 64

// refusal is the whole answer to a connection over the limit, with a request ID of its own like
// every problem.
func refusal() string {
	id := newRequestID()
	body := `{"type":"/problems/too-many-connections","title":"Too many connections","status":503,` +
		`"detail":"The server has too many open connections; retry shortly.","requestId":"` + id + `"}`
	return "HTTP/1.1 503 Service Unavailable\r\n" +
		"Content-Type: " + ContentTypeProblem + "\r\n" +
		"Cache-Control: no-store\r\n" +
		HeaderRequestID + ": " + id + "\r\n" +
		"Retry-After: 1\r\n" +
		"Connection: close\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n" +
		"\r\n" + body
}

type limitListener struct {
	net.Listener
	slots     chan struct{}
	refusing  chan struct{}
	plainHTTP bool
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			l.refuse(c)
		}
	}
}

// refuse answers a connection over the limit without holding up Accept.
func (l *limitListener) refuse(c net.Conn) {
	if !l.plainHTTP {
		_ = c.Close()
		return
	}
	select {
	case l.refusing <- struct{}{}:
	default:
		_ = c.Close()
		return
	}
	go func() {
		defer func() { <-l.refusing }()
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.WriteString(c, refusal()); err != nil {
			return
		}
		// Closing with the request unread would reset the connection, and the client might
		// lose the answer: stop sending, then read what the client sent until it closes.
		if tc, ok := c.(interface{ CloseWrite() error }); ok {
			_ = tc.CloseWrite()
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	}()
}

// limitedConn gives its slot back when closed (once: net/http may close a connection twice).
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite lets net/http half-close the connection after an error answer, as it does with a
// bare TCP connection, so that the client reads the answer before the connection goes.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
