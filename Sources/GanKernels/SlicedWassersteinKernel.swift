import CGanKernels

/// The sliced Wasserstein terms kernel (gk_f32_swd): for each unit direction (rows of
/// `directions`, `dimension` floats each) the mean |difference| of the two sets' sorted
/// projections. Threads split directions; the terms do not depend on the thread count.
public enum SlicedWassersteinKernel {
  public static func workspaceBytes(rows: Int, dimension: Int, threads: Int) -> Int {
    gk_f32_swd_workspace_bytes(rows, dimension, Int32(threads))
  }

  /// a, b: (rows x dimension); directions: (count x dimension); terms: count.
  public static func terms(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, rows: Int, dimension: Int,
                           directions: UnsafePointer<Float>, count: Int, into terms: UnsafeMutablePointer<Double>,
                           workspace: UnsafeMutableRawPointer, threads: Int) {
    gk_f32_swd(a, b, rows, dimension, directions, Int32(count), terms, workspace, Int32(threads))
  }

  /// The scalar reference (plain dots, merge sort), single-threaded.
  public static func referenceTerms(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, rows: Int, dimension: Int,
                                    directions: UnsafePointer<Float>, count: Int,
                                    into terms: UnsafeMutablePointer<Double>) {
    let ws = UnsafeMutableRawPointer.allocate(byteCount: max(gk_f32_swd_ref_workspace_bytes(rows), 64), alignment: 64)
    defer { ws.deallocate() }
    gk_f32_swd_ref(a, b, rows, dimension, directions, Int32(count), terms, ws)
  }
}
