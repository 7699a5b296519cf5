package backup

import "iter"

// prefetch ranges over seq in a goroutine of its own, a batch of size items ahead of the
// consumer, so that producing (reading and decoding a file or a store) and consuming (checking,
// encoding, writing) run at the same time on two cores. It yields what seq yields, in order,
// the error included. If the consumer stops, the producer is stopped and waited for before
// prefetch returns, so seq is never used after that.
func prefetch[T any](seq iter.Seq2[T, error], size int) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		type batch struct {
			items []T
			err   error
		}
		full := make(chan batch, 2)
		free := make(chan []T, 3)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer close(full)
			send := func(b batch) bool {
				select {
				case full <- b:
					return true
				case <-stop:
					return false
				}
			}
			buf := make([]T, 0, size)
			for v, err := range seq {
				if err != nil {
					send(batch{buf, err})
					return
				}
				buf = append(buf, v)
				if len(buf) == size {
					if !send(batch{items: buf}) {
						return
					}
					select {
					case buf = <-free:
					default:
						buf = make([]T, 0, size)
					}
				}
			}
			send(batch{items: buf})
		}()
		defer func() {
			close(stop)
			for range full {
			}
			<-done
		}()
		var zero T
		for b := range full {
			for i, v := range b.items {
				b.items[i] = zero // the consumer owns v now; let the batch be reused
				if !yield(v, nil) {
					return
				}
			}
			if b.err != nil {
				yield(zero, b.err)
				return
			}
			select {
			case free <- b.items[:0]:
			default:
			}
		}
	}
}
