package partition

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// nsPrefix starts the name of every namespace this test makes; the rest of
// the name is the test process's pid in hex, so a run never collides with
// the leftovers of a crashed earlier one, and sweepStale can tell which
// runs are gone.
const nsPrefix = "urnaj-"

// network is the test's hosts: one namespace per node, each with its
// identity address on its loopback, a veth link to the root namespace
// (where the test's clients run, at clientAddr) and a veth link to every
// other node. Every route is a /32 device route, so cutting a node-to-node
// link cuts exactly that pair and never the clients' access.
type network struct {
	t    *testing.T
	run  string // the pid in hex
	net  string // "10.A": the run's /16
	n    int
	mu   sync.Mutex
	down map[[2]int]bool // cut node-to-node links, i < j
}

// requireNetns checks that this process can make namespaces: root and `ip`.
// In CI their lack fails the test, by hand it skips it.
func requireNetns(t *testing.T) {
	t.Helper()
	reason := ""
	if os.Geteuid() != 0 {
		reason = "not running as root"
	} else if _, err := exec.LookPath("ip"); err != nil {
		reason = "`ip` (iproute2) is not installed"
	}
	if reason == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s: the partition test needs root and iproute2 in CI (.ci/run installs iproute2)", reason)
	}
	t.Skipf("%s: skipping the partition test (it needs root and iproute2 to make network namespaces; required in CI)", reason)
}

// ip runs `ip args...` and stops the test when it fails.
func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
}

// sweepStale deletes the namespaces of earlier runs whose process is gone
// (their links go with them), killing what still runs inside.
func sweepStale(t *testing.T) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, nsPrefix)
		if !ok {
			continue
		}
		hexPid, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.ParseInt(hexPid, 16, 32)
		if err != nil || pid == int64(os.Getpid()) {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // a run still going
		}
		killNetns(name)
		_ = exec.Command("ip", "netns", "del", name).Run()
		t.Logf("deleted namespace %s left by an earlier run", name)
	}
}

// killNetns kills every process in namespace name.
func killNetns(name string) {
	out, _ := exec.Command("ip", "netns", "pids", name).Output()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
		}
	}
}

// newNetwork makes n hosts. Cleanup deletes them even when the test fails
// (registered before the first one exists).
func newNetwork(t *testing.T, n int) *network {
	t.Helper()
	sweepStale(t)
	pid := os.Getpid()
	nw := &network{t: t, run: fmt.Sprintf("%x", pid), net: fmt.Sprintf("10.%d", 100+pid%100), n: n, down: map[[2]int]bool{}}
	t.Cleanup(func() {
		for i := 1; i <= n; i++ {
			killNetns(nw.ns(i))
			if out, err := exec.Command("ip", "netns", "del", nw.ns(i)).CombinedOutput(); err != nil && !strings.Contains(string(out), "No such file") {
				t.Errorf("cleanup: ip netns del %s: %v: %s", nw.ns(i), err, out)
			}
		}
	})
	for i := 1; i <= n; i++ {
		ns, host := nw.ns(i), nw.rootLink(i)
		// A link of this name is stale: an earlier run with the same pid
		// whose namespace outlived its name (a process still dying in it
		// when it was deleted) left it. It goes; no other run uses the name.
		_ = exec.Command("ip", "link", "del", host).Run()
		ip(t, "netns", "add", ns)
		ip(t, "-n", ns, "link", "set", "lo", "up")
		ip(t, "-n", ns, "addr", "add", nw.addr(i)+"/32", "dev", "lo")
		ip(t, "link", "add", host, "type", "veth", "peer", "name", "c0", "netns", ns)
		ip(t, "link", "set", host, "up")
		ip(t, "-n", ns, "link", "set", "c0", "up")
		ip(t, "addr", "add", nw.clientAddr()+"/32", "dev", host)
		ip(t, "route", "add", nw.addr(i)+"/32", "dev", host, "src", nw.clientAddr())
		ip(t, "-n", ns, "route", "add", nw.clientAddr()+"/32", "dev", "c0", "src", nw.addr(i))
	}
	for i := 1; i <= n; i++ {
		for j := i + 1; j <= n; j++ {
			ip(t, "-n", nw.ns(i), "link", "add", peerLink(j), "type", "veth", "peer", "name", peerLink(i), "netns", nw.ns(j))
			nw.setLink(i, j, true)
		}
	}
	return nw
}

func (nw *network) ns(i int) string       { return fmt.Sprintf("%s%s-n%d", nsPrefix, nw.run, i) }
func (nw *network) rootLink(i int) string { return fmt.Sprintf("uj%sc%d", nw.run, i) } // ≤ 15 bytes
func (nw *network) addr(i int) string     { return fmt.Sprintf("%s.0.%d", nw.net, i) }
func (nw *network) clientAddr() string    { return nw.net + ".1.254" }
func peerLink(j int) string               { return fmt.Sprintf("p%d", j) }

// setLink brings the link between nodes i and j up (with its routes, which
// the kernel drops when a link goes down) or down, on both ends.
func (nw *network) setLink(i, j int, up bool) {
	nw.t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	for _, e := range [][2]int{{i, j}, {j, i}} {
		ip(nw.t, "-n", nw.ns(e[0]), "link", "set", peerLink(e[1]), state)
	}
	if up {
		for _, e := range [][2]int{{i, j}, {j, i}} {
			ip(nw.t, "-n", nw.ns(e[0]), "route", "replace", nw.addr(e[1])+"/32", "dev", peerLink(e[1]), "src", nw.addr(e[0]))
		}
	}
	nw.mu.Lock()
	nw.down[[2]int{min(i, j), max(i, j)}] = !up
	nw.mu.Unlock()
}

// isolate cuts every link of node i to the other nodes.
func (nw *network) isolate(i int) {
	for j := 1; j <= nw.n; j++ {
		if j != i {
			nw.setLink(i, j, false)
		}
	}
}

// heal brings every cut link back.
func (nw *network) heal() {
	nw.mu.Lock()
	var cut [][2]int
	for l, d := range nw.down {
		if d {
			cut = append(cut, l)
		}
	}
	nw.mu.Unlock()
	for _, l := range cut {
		nw.setLink(l[0], l[1], true)
	}
}

// command returns a command running name args... in node i's namespace.
func (nw *network) command(i int, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", nw.ns(i), name}, args...)...)
}
