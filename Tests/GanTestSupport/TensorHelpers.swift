import GanRuntime

/// PyTorch's NCHW as this package's NHWC: (n, c, h, w) -> (n, h, w, c).
public func nchwToNHWC(_ v: [Float], n: Int, c: Int, h: Int, w: Int) -> [Float] {
  var out = [Float](repeating: 0, count: v.count)
  for i in 0..<n { for ch in 0..<c { for y in 0..<h { for x in 0..<w {
    out[((i * h + y) * w + x) * c + ch] = v[((i * c + ch) * h + y) * w + x]
  }}}}
  return out
}

/// max |a - b| over two arrays of the same length.
public func maxAbs(_ a: [Float], _ b: [Float]) -> Float {
  precondition(a.count == b.count)
  return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// `count` images of the latents `z` (count x nz) in calls of at most `batch`, as floats (NHWC in
/// [-1, 1]) and the pixels the runtime wrote beside them: the batching the tests vary.
/// labels: conditional models' classes (count values), nil for class 0 / unconditional models.
public func generateImages(_ r: ImageGenerator, _ z: [Float], labels: [Int32]? = nil, count: Int, batch: Int)
    -> (images: [Float], pixels: [UInt8]) {
  var images = [Float](repeating: 0, count: count * r.imageElements)
  var pixels = [UInt8](repeating: 0, count: count * r.imageElements)
  let classes = labels ?? []
  z.withUnsafeBufferPointer { zp in images.withUnsafeMutableBufferPointer { ip in pixels.withUnsafeMutableBufferPointer { pp in
    classes.withUnsafeBufferPointer { lp in
      var i = 0
      while i < count {
        let n = min(batch, count - i)
        r.generate(latents: zp.baseAddress! + i * r.architecture.nz, labels: labels == nil ? nil : lp.baseAddress! + i,
                   count: n, output: ip.baseAddress! + i * r.imageElements, pixels: pp.baseAddress! + i * r.imageElements)
        i += n
      }
    }
  }}}
  return (images, pixels)
}
