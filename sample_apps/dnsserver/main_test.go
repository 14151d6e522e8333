package main

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// start serves the zone on a loopback port over both transports.
func start(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{origin: "compat.test."}
	s.zone = buildZone(s.origin)
	udp := &dns.Server{PacketConn: pc, Handler: s}
	tcp := &dns.Server{Listener: ln, Handler: s}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { _ = udp.Shutdown(); _ = tcp.Shutdown() })
	return addr
}

func ask(t *testing.T, addr, network, name string, qtype uint16, edns uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns > 0 {
		m.SetEdns0(edns, false)
	}
	c := &dns.Client{Net: network, Timeout: 2 * time.Second, UDPSize: 65535}
	var in *dns.Msg
	var err error
	for i := 0; i < 20; i++ { // the servers start in goroutines
		if in, _, err = c.Exchange(m, addr); err == nil {
			return in
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s %s: %v", network, name, err)
	return nil
}

func TestLargeTruncatedOverUDPFullOverTCP(t *testing.T) {
	addr := start(t)
	udp := ask(t, addr, "udp", "large.compat.test.", dns.TypeA, 0)
	if !udp.Truncated || len(udp.Answer) == 0 || len(udp.Answer) >= largeCount {
		t.Fatalf("udp: TC=%v answers=%d", udp.Truncated, len(udp.Answer))
	}
	udp.Compress = true // as sent: Len counts names uncompressed otherwise
	if size := udp.Len(); size > dns.MinMsgSize {
		t.Fatalf("udp answer is %d bytes", size)
	}
	edns := ask(t, addr, "udp", "large.compat.test.", dns.TypeA, 1232)
	if edns.Truncated || len(edns.Answer) != largeCount {
		t.Fatalf("udp with EDNS0 1232: TC=%v answers=%d", edns.Truncated, len(edns.Answer))
	}
	tcp := ask(t, addr, "tcp", "large.compat.test.", dns.TypeA, 0)
	if tcp.Truncated || len(tcp.Answer) != largeCount {
		t.Fatalf("tcp: TC=%v answers=%d", tcp.Truncated, len(tcp.Answer))
	}
}

func TestZoneNames(t *testing.T) {
	addr := start(t)
	cases := []struct {
		name    string
		qtype   uint16
		rcode   int
		answers int
	}{
		{"ok.compat.test.", dns.TypeA, dns.RcodeSuccess, 1},
		{"aaaa-only.compat.test.", dns.TypeA, dns.RcodeSuccess, 0},
		{"aaaa-only.compat.test.", dns.TypeAAAA, dns.RcodeSuccess, 1},
		{"svc.ns.compat.test.", dns.TypeA, dns.RcodeSuccess, 1},
		{"svc.ns.", dns.TypeA, dns.RcodeNameError, 0},
		{"missing.compat.test.", dns.TypeA, dns.RcodeNameError, 0},
	}
	for _, c := range cases {
		in := ask(t, addr, "udp", c.name, c.qtype, 0)
		if in.Rcode != c.rcode || len(in.Answer) != c.answers {
			t.Errorf("%s %s: rcode %s answers %d", c.name, dns.TypeToString[c.qtype],
				dns.RcodeToString[in.Rcode], len(in.Answer))
		}
	}
}
