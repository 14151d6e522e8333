// Command dnsserver is the name server the dns check points resolvers at: an
// authoritative server for a small zone built for the cases where C libraries
// and Go's resolver differ, which logs every query it reads (name, type,
// transport, EDNS0 size) as one JSON line on stdout.
//
// With -silent it reads queries over UDP and TCP, logs them and never answers:
// a nameserver that is up but silent, as a dead upstream looks to a resolver.
//
// Answers over UDP are truncated (TC set) to 512 bytes, or to the client's
// EDNS0 buffer size, the way CoreDNS and other miekg/dns servers do it: the
// records that fit stay in the answer. The full answer is served over TCP.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

const (
	// largeCount A records make large.<zone> exceed 512 bytes over UDP while
	// staying under musl's 48-address cap, so a full answer can be counted.
	largeCount = 40
	// silentHold bounds how long the silent server keeps a TCP connection.
	silentHold = 30 * time.Second
	ttl        = 60
)

type queryLog struct {
	Event     string `json:"event"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	Transport string `json:"transport"`
	EDNS      int    `json:"edns"`
	From      string `json:"from"`
	Rcode     string `json:"rcode,omitempty"`
	Answers   int    `json:"answers"`
	Truncated bool   `json:"truncated"`
	Silent    bool   `json:"silent"`
	// TS is when the query was read (Unix ns): the check sorts the queries of a
	// probe's cases by the time windows the probe reports.
	TS int64 `json:"ts"`
}

var logMu sync.Mutex

func emit(v any) {
	line, _ := json.Marshal(v)
	logMu.Lock()
	defer logMu.Unlock()
	os.Stdout.Write(append(line, '\n'))
}

// zone maps owner names to their records.
type zone map[string][]dns.RR

func buildZone(origin string) zone {
	z := zone{}
	add := func(rr string) {
		r, err := dns.NewRR(rr)
		if err != nil {
			panic(err)
		}
		name := strings.ToLower(r.Header().Name)
		z[name] = append(z[name], r)
	}
	add(fmt.Sprintf("ok.%s %d IN A 192.0.2.10", origin, ttl))
	for i := 1; i <= largeCount; i++ {
		add(fmt.Sprintf("large.%s %d IN A 198.51.100.%d", origin, ttl, i))
	}
	add(fmt.Sprintf("aaaa-only.%s %d IN AAAA 2001:db8::53", origin, ttl))
	add(fmt.Sprintf("svc.ns.%s %d IN A 192.0.2.20", origin, ttl))
	return z
}

type server struct {
	origin string
	zone   zone
}

func (s *server) inZone(name string) bool {
	return dns.IsSubDomain(s.origin, name)
}

func (s *server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	transport := "udp"
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		transport = "tcp"
	}
	entry := queryLog{
		Event: "query", Transport: transport, From: w.RemoteAddr().String(), TS: time.Now().UnixNano(),
	}
	if opt := req.IsEdns0(); opt != nil {
		entry.EDNS = int(opt.UDPSize())
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
	} else {
		q := req.Question[0]
		entry.Name = q.Name
		entry.Type = dns.TypeToString[q.Qtype]
		name := strings.ToLower(q.Name)
		records, exists := s.zone[name]
		switch {
		case exists:
			for _, rr := range records {
				if rr.Header().Rrtype == q.Qtype {
					m.Answer = append(m.Answer, dns.Copy(rr))
				}
			}
		case s.inZone(name):
			m.Rcode = dns.RcodeNameError
			m.Ns = []dns.RR{s.soa()}
		default:
			// Like a recursive resolver for a name under no existing TLD: it does
			// not exist. (REFUSED would make musl fail rather than search on.)
			m.Rcode = dns.RcodeNameError
		}
		if exists && len(m.Answer) == 0 {
			m.Ns = []dns.RR{s.soa()}
		}
	}
	if transport == "udp" {
		size := dns.MinMsgSize
		if entry.EDNS > size {
			size = min(entry.EDNS, dns.DefaultMsgSize)
		}
		if req.IsEdns0() != nil {
			m.SetEdns0(uint16(size), false)
		}
		m.Truncate(size)
	}
	entry.Rcode = dns.RcodeToString[m.Rcode]
	entry.Answers = len(m.Answer)
	entry.Truncated = m.Truncated
	// Logged before the answer leaves, so the line exists once the client has it.
	emit(entry)
	_ = w.WriteMsg(m)
}

func (s *server) soa() dns.RR {
	rr, _ := dns.NewRR(fmt.Sprintf("%s %d IN SOA ns.%s hostmaster.%s 1 3600 600 86400 %d",
		s.origin, ttl, s.origin, s.origin, ttl))
	return rr
}

// silent reads and logs queries on both transports and never answers.
func silent(addr string) error {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	emit(map[string]any{"event": "ready", "addr": addr, "silent": true})
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(silentHold))
				for {
					var size [2]byte
					if _, err := readFull(c, size[:]); err != nil {
						return
					}
					buf := make([]byte, int(size[0])<<8|int(size[1]))
					if _, err := readFull(c, buf); err != nil {
						return
					}
					logSilent(buf, "tcp", c.RemoteAddr())
				}
			}(conn)
		}
	}()
	buf := make([]byte, 65535)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		logSilent(buf[:n], "udp", from)
	}
}

func readFull(c net.Conn, buf []byte) (int, error) {
	got := 0
	for got < len(buf) {
		n, err := c.Read(buf[got:])
		got += n
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

func logSilent(raw []byte, transport string, from net.Addr) {
	entry := queryLog{
		Event: "query", Transport: transport, From: from.String(), Silent: true, TS: time.Now().UnixNano(),
	}
	req := new(dns.Msg)
	if err := req.Unpack(raw); err == nil && len(req.Question) == 1 {
		entry.Name = req.Question[0].Name
		entry.Type = dns.TypeToString[req.Question[0].Qtype]
		if opt := req.IsEdns0(); opt != nil {
			entry.EDNS = int(opt.UDPSize())
		}
	}
	emit(entry)
}

func main() {
	addr := flag.String("listen", ":53", "address for UDP and TCP")
	origin := flag.String("zone", "compat.test.", "the zone served")
	quiet := flag.Bool("silent", false, "read and log queries, never answer")
	flag.Parse()
	if *quiet {
		if err := silent(*addr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	s := &server{origin: dns.Fqdn(strings.ToLower(*origin))}
	s.zone = buildZone(s.origin)
	errs := make(chan error, 2)
	var ready sync.WaitGroup
	for _, network := range []string{"udp", "tcp"} {
		ready.Add(1)
		srv := &dns.Server{Addr: *addr, Net: network, Handler: s, NotifyStartedFunc: ready.Done}
		go func() { errs <- srv.ListenAndServe() }()
	}
	go func() {
		ready.Wait()
		emit(map[string]any{"event": "ready", "addr": *addr, "silent": false, "zone": s.origin})
	}()
	err := <-errs
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
