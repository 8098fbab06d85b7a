package otelrecgate_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/recgate/recgate/otelrecgate"
)

// newMetrics returns a Metrics on an SDK provider whose ManualReader the
// test collects from.
func newMetrics(t testing.TB) (*otelrecgate.Metrics, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	m, err := otelrecgate.New(provider.Meter("otelrecgate_test"))
	if err != nil {
		t.Fatal(err)
	}
	return m, reader
}

// point is one data point: a counter's value, or a histogram's count and
// sum.
type point struct {
	value float64 // sum of a counter, count of a histogram
	sum   float64 // sum of a histogram
}

// collected maps instrument name -> "k=v,k=v" -> point.
type collected map[string]map[string]point

func collect(t testing.TB, r *sdkmetric.ManualReader) collected {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := collected{}
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			byAttrs := map[string]point{}
			switch d := mt.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					byAttrs[attrs(dp.Attributes)] = point{value: float64(dp.Value)}
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					byAttrs[attrs(dp.Attributes)] = point{value: float64(dp.Count), sum: dp.Sum}
				}
			default:
				t.Fatalf("%s: unexpected data %T", mt.Name, mt.Data)
			}
			out[mt.Name] = byAttrs
		}
	}
	return out
}

func attrs(s attribute.Set) string {
	var kv []string
	for _, a := range s.ToSlice() {
		kv = append(kv, string(a.Key)+"="+a.Value.String())
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// values renders an instrument's points as "attrs:value" lines, sorted, for
// comparison and for error messages.
func (c collected) values(name string) string {
	var lines []string
	for a, p := range c[name] {
		lines = append(lines, fmt.Sprintf("%s:%g", a, p.value))
	}
	sort.Strings(lines)
	return strings.Join(lines, " ")
}

func (c collected) expect(t *testing.T, name string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := c.values(name); got != strings.Join(want, " ") {
		t.Errorf("%s:\n got %s\nwant %s", name, got, strings.Join(want, " "))
	}
}
