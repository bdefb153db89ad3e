package bench

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-mq/warren/bench/benchkit"
)

// BenchmarkSleepCeiling is the ceiling of the sleeping-handler scenarios
// with no broker and no library: W goroutines that do nothing but
// benchkit.Sleep1's work (time.Sleep(time.Millisecond), which sleeps
// longer than a millisecond on a loaded machine), b.N of them in all. A
// library's msg/s in the sleep1ms scenarios is quoted against this figure
// from the same run, rather than against W / 1 ms.
func BenchmarkSleepCeiling(b *testing.B) {
	for _, workers := range []int{16, 64} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			work := benchkit.Sleep1
			var left atomic.Int64
			left.Store(int64(b.N))
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for left.Add(-1) >= 0 {
						work.Do(nil)
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msg/s")
		})
	}
}
