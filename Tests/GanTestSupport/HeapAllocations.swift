import CMallocCounter

/// Heap allocations (malloc, calloc, realloc, memalign) while `body` runs: the least over `windows`
/// runs of it. The counter is process-wide, and in the one test process threads that earlier tests
/// left behind (event loops, process reapers) may allocate during a window on a loaded machine; an
/// allocation on the measured path itself shows in every window, so the least is the path's count.
public func heapAllocations(windows: Int = 3, _ body: () -> Void) -> Int {
  var least = Int.max
  for _ in 0..<windows {
    let before = gmc_allocations()
    body()
    least = min(least, gmc_allocations() - before)
    if least == 0 { break }
  }
  return least
}
