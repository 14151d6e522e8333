package starttime

import (
	"testing"
	"time"
)

func TestStartTicksSkipsTheCommandName(t *testing.T) {
	line := "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 12345 1000 10"
	got, err := startTicks(line)
	if err != nil || got != 12345 {
		t.Fatalf("startTicks = %d, %v; want 12345", got, err)
	}
}

func TestExecIsBeforeInitAndRecent(t *testing.T) {
	exec, err := Exec()
	if err != nil {
		t.Fatal(err)
	}
	if exec.After(Init.Add(time.Duration(TickMS) * time.Millisecond)) {
		t.Fatalf("exec %v after init %v", exec, Init)
	}
	if time.Since(exec) > time.Hour {
		t.Fatalf("exec %v is not this process's start", exec)
	}
	r := Ready("mixed")
	if r.ExecToReadyMS < r.InitToReadyMS-TickMS || r.ExecError != "" {
		t.Fatalf("report %+v", r)
	}
}
