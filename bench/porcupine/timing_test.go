// Times Porcupine on the reference sets that raftlab's bench:checker checks, for README "The
// checker": copy this file into a checkout of github.com/anishathalye/porcupine (it uses that
// package's test helpers parseJepsenLog, parseKvLog, etcdModel and kvModel) and run
//   go test -run TestTimingRaftlab -count=1 -v .
// Each set is parsed first; the median of 5 rounds of CheckEvents over the set is printed.
package porcupine

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

func medianMs(rounds []time.Duration) float64 {
	sort.Slice(rounds, func(i, j int) bool { return rounds[i] < rounds[j] })
	return float64(rounds[len(rounds)/2].Microseconds()) / 1000
}

func TestTimingRaftlab(t *testing.T) {
	sets := map[string][][]Event{}
	var etcd51, etcd103 [][]Event
	for i := 0; i < 103; i++ {
		ev := parseJepsenLog(fmt.Sprintf("test_data/jepsen/etcd_%03d.log", i))
		etcd103 = append(etcd103, ev)
		if i <= 50 {
			etcd51 = append(etcd51, ev)
		}
	}
	sets["etcd-51"] = etcd51
	sets["etcd-103"] = etcd103
	var kv5, kv6 [][]Event
	for _, name := range []string{"c01-bad", "c01-ok", "c10-bad", "c10-ok", "c50-ok", "c50-bad"} {
		ev := parseKvLog(fmt.Sprintf("test_data/kv/%s.txt", name))
		kv6 = append(kv6, ev)
		if name != "c50-bad" {
			kv5 = append(kv5, ev)
		}
	}
	sets["kv-5"] = kv5
	sets["kv-6"] = kv6
	for _, name := range []string{"etcd-51", "etcd-103", "kv-5", "kv-6"} {
		model := etcdModel
		if name[0] == 'k' {
			model = kvModel
		}
		var rounds []time.Duration
		ok := 0
		for r := 0; r < 5; r++ {
			ok = 0
			start := time.Now()
			for _, ev := range sets[name] {
				if CheckEvents(model, ev) {
					ok++
				}
			}
			rounds = append(rounds, time.Since(start))
		}
		fmt.Printf("porcupine %s: %d files, %d ok, median of 5: %.1f ms (rounds %v)\n", name, len(sets[name]), ok, medianMs(rounds), rounds)
	}
}
