package natstest

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestServerRunsJetStreamAndStopCleansUp(t *testing.T) {
	s := Start(t)
	nc, err := nats.Connect(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddStream(&nats.StreamConfig{Name: "T", Subjects: []string{"t.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish("t.x", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(s.Dir + "/store"); err != nil || len(entries) == 0 {
		t.Fatalf("the JetStream store is not in the test directory: %v %v", entries, err)
	}

	s.Stop()
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatalf("directory left behind: %v", err)
	}
	if c, err := net.DialTimeout("tcp", s.Listen(), time.Second); err == nil {
		c.Close()
		t.Fatal("the server still accepts connections after Stop")
	}
	s.Stop() // a second Stop does nothing
}

func TestMissingBinaryNamesTheInstallCommand(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := findBinary([]string{"/nonexistent/nats-server"})
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y nats-server") {
		t.Fatalf("err = %v, want the install hint", err)
	}
}
