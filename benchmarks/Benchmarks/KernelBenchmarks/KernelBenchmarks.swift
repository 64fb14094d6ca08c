import Benchmark
import GanKernels

// One benchmark per kernel on the real DCGAN-64 layer shapes at batch 1 and 64. Each measures
// one kernel call between startMeasurement/stopMeasurement (buffers are made before), so
// mallocCountTotal counts the kernel's own allocations; GFLOP/s is recorded as a custom metric
// (MFLOP/s, integer) outside the measured region.

let threads = Kernels.defaultThreads
let mflops = BenchmarkMetric.custom("MFLOP/s", polarity: .prefersLarger, useScalingFactor: false)
let clock = ContinuousClock()

func timed(_ name: String, flops: Double, _ body: @escaping @Sendable () -> Void) {
  Benchmark(name) { benchmark in
    benchmark.startMeasurement()
    let t0 = clock.now
    body()
    let elapsed = clock.now - t0
    benchmark.stopMeasurement()
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    if flops > 0, seconds > 0 { benchmark.measurement(mflops, Int(flops / seconds / 1e6)) }
  }
}

/// A Winograd weight transform, which training redoes after every optimizer step, fused and as the
/// two-pass reference; it does not depend on the batch, so only at the training batch (64).
func timedWeightPack(_ batch: Int, _ name: String, fused: @escaping @Sendable () -> Void,
                     reference: @escaping @Sendable () -> Void) {
  guard batch == 64 else { return }
  timed(name + " weight-pack fused", flops: 0, fused)
  timed(name + " weight-pack c-ref", flops: 0, reference)
}

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .mallocCountTotal, mflops],
    warmupIterations: 3,
    maxDuration: .seconds(1),
    maxIterations: 1000
  )

  // Plain GEMM at the size the OpenBLAS comparison uses.
  do {
    let (m, n, k) = (256, 1024, 2048)
    let a = FloatBuffer(m * k), b = FloatBuffer(k * n), c = FloatBuffer(m * n)
    let ws = RawBuffer(bytes: Gemm.workspaceBytes(m: m, n: n, k: k, threads: threads))
    timed("gemm M256 N1024 K2048", flops: 2.0 * Double(m * n * k)) {
      Gemm.run(m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: c.pointer, workspace: ws.pointer, threads: threads)
    }
  }

  // int8 generator layers (gan-quant files): each layer alone and the whole generator in one
  // call, as gan-gen runs it. MFLOP/s counts multiply-adds x 2 as for fp32.
  for batch in DCGAN64.batches {
    let layers = UnsafeMutablePointer<Int8Kernels.Layer>.allocate(capacity: 5)
    let channels = [512] + DCGAN64.deconvLayers.map(\.cout)
    var flops: [Double] = []
    for i in 0..<5 {
      var l = Int8Kernels.Layer()
      l.kind = i == 0 ? Int8Kernels.dense : Int8Kernels.deconv4s2
      let side = i == 0 ? 1 : DCGAN64.deconvLayers[i - 1].side
      let cin = i == 0 ? DCGAN64.nz : DCGAN64.deconvLayers[i - 1].cin
      let cout = i == 0 ? 16 * 512 : channels[i]
      l.n = Int32(batch); l.h = Int32(side); l.w = Int32(side); l.cin = Int32(cin); l.cout = Int32(cout)
      let bytes = Int8Kernels.packedBytes(kind: l.kind, inChannels: cin, outChannels: cout)
      let packed = UnsafeMutablePointer<Int8>.allocate(capacity: bytes)
      for e in 0..<bytes { packed[e] = Int8(truncatingIfNeeded: (e &* 37) % 15 - 7) }
      // Buffers live for the whole process (the benchmarks hold raw pointers into them).
      let mult = UnsafeMutablePointer<Float>.allocate(capacity: cout), bias = UnsafeMutablePointer<Float>.allocate(capacity: cout)
      mult.initialize(repeating: 0.002, count: cout); bias.initialize(repeating: 1, count: cout)
      l.packed = UnsafePointer(packed); l.mult = UnsafePointer(mult); l.bias = UnsafePointer(bias)
      let outElements = i == 0 ? batch * cout : batch * 4 * side * side * cout
      if i == 0 {
        let z = UnsafeMutablePointer<Float>.allocate(capacity: batch * cin)
        for e in 0..<(batch * cin) { z[e] = Float((e * 7919) % 200 - 100) / 40 }
        l.x_f32 = UnsafePointer(z); l.x_inv_scale = 30; l.x_signed = 1
      } else {
        l.x_u8 = UnsafePointer(layers[i - 1].y_u8!)
      }
      if i == 4 {
        l.out = Int8Kernels.outF32Tanh
        l.y_f32 = UnsafeMutablePointer<Float>.allocate(capacity: outElements)
        l.pixels = UnsafeMutablePointer<UInt8>.allocate(capacity: outElements)
      } else {
        l.out = Int8Kernels.outU8
        l.y_u8 = UnsafeMutablePointer<UInt8>.allocate(capacity: outElements)
        l.y_u8!.initialize(repeating: 3, count: outElements)
      }
      layers[i] = l
      flops.append(2.0 * Double(i == 0 ? batch * cin * cout : batch * side * side * 16 * cin * cout))
    }
    let ws = RawBuffer(bytes: Int8Kernels.workspaceBytes(layers, count: 5, threads: threads))
    let all = UnsafePointer(layers)
    for i in 0..<5 {
      timed("\(i == 0 ? "G1" : DCGAN64.deconvLayers[i - 1].name) int8 forward b\(batch)", flops: flops[i]) {
        Int8Kernels.run(all + i, count: 1, workspace: ws.pointer, threads: threads)
      }
    }
    timed("generator int8 forward (G1-G5, one call) b\(batch)", flops: flops.reduce(0, +)) {
      Int8Kernels.run(all, count: 5, workspace: ws.pointer, threads: threads)
    }
  }

  for batch in DCGAN64.batches {
    // G1: ConvTranspose2d(100, 512, 4, 1, 0) from 1x1, a dense layer.
    do {
      let kin = DCGAN64.nz, kout = 16 * 512
      let x = FloatBuffer(batch * kin), w = FloatBuffer(kin * kout), y = FloatBuffer(batch * kout)
      let dy = FloatBuffer(batch * kout), dx = FloatBuffer(batch * kin), dw = FloatBuffer(kin * kout)
      let ws = RawBuffer(bytes: Dense.workspaceBytes(batch: batch, inFeatures: kin, outFeatures: kout, threads: threads))
      let flops = 2.0 * Double(batch * kin * kout)
      timed("G1 dense forward b\(batch)", flops: flops) {
        Dense.forward(batch: batch, inFeatures: kin, outFeatures: kout, x: x.pointer, weights: w.pointer, y: y.pointer,
                      workspace: ws.pointer, threads: threads)
      }
      let packed = FloatBuffer(Dense.packedCount(inFeatures: kin, outFeatures: kout))
      Dense.packWeights(inFeatures: kin, outFeatures: kout, weights: w.pointer, into: packed.pointer)
      timed("G1 dense forward-packed b\(batch)", flops: flops) {
        Dense.forward(batch: batch, inFeatures: kin, outFeatures: kout, x: x.pointer, packedWeights: packed.pointer,
                      y: y.pointer, epilogue: Epilogue(activation: .relu), workspace: ws.pointer, threads: threads)
      }
      timed("G1 dense backward-weights b\(batch)", flops: flops) {
        Dense.backwardWeights(batch: batch, inFeatures: kin, outFeatures: kout, x: x.pointer, dy: dy.pointer, dw: dw.pointer,
                              accumulate: false, workspace: ws.pointer, threads: threads)
      }
      timed("D5 dense forward b\(batch)", flops: 2.0 * Double(batch * kout)) {
        Dense.forward(batch: batch, inFeatures: kout, outFeatures: 1, x: y.pointer, weights: w.pointer, y: dx.pointer,
                      workspace: ws.pointer, threads: threads)
      }
      _ = dx
    }
    for l in DCGAN64.deconvLayers {
      let s = ConvShape(batch: batch, height: l.side, width: l.side, inChannels: l.cin, outChannels: l.cout)
      let x = FloatBuffer(batch * l.side * l.side * l.cin), w = FloatBuffer(s.weightCount)
      let y = FloatBuffer(batch * 4 * l.side * l.side * l.cout), dw = FloatBuffer(s.weightCount)
      let ws = RawBuffer(bytes: Deconv4s2.workspaceBytes(s, threads: threads))
      let flops = 2.0 * Double(batch * l.side * l.side * 16 * l.cin * l.cout)
      let act: Activation = l.name == "G5" ? .tanh : .none
      timed("\(l.name) deconv forward b\(batch)", flops: flops) {
        Deconv4s2.forward(s, x: x.pointer, weights: w.pointer, y: y.pointer, epilogue: Epilogue(activation: act),
                          workspace: ws.pointer, threads: threads)
      }
      let packed = FloatBuffer(Deconv4s2.packedCount(inChannels: l.cin, outChannels: l.cout))
      Deconv4s2.packWeights(inChannels: l.cin, outChannels: l.cout, weights: w.pointer, into: packed.pointer)
      let pixels = UnsafeMutablePointer<UInt8>.allocate(capacity: l.name == "G5" ? batch * 64 * 64 * 3 : 1)
      timed("\(l.name) deconv forward-packed b\(batch)", flops: flops) {
        Deconv4s2.forward(s, x: x.pointer, packedWeights: packed.pointer, y: y.pointer,
                          epilogue: Epilogue(activation: act == .tanh ? .tanh : .relu, pixels: l.name == "G5" ? pixels : nil),
                          workspace: ws.pointer, threads: threads)
      }
      if l.cout > NarrowDeconv4s2.maxOutChannels {
        for tile in WinogradDeconv4s2.tiles where WinogradDeconv4s2.supports(tile: tile, s) {
          let winograd = FloatBuffer(WinogradDeconv4s2.packedCount(tile: tile, inChannels: l.cin, outChannels: l.cout))
          WinogradDeconv4s2.packWeights(tile: tile, inChannels: l.cin, outChannels: l.cout, weights: w.pointer, into: winograd.pointer)
          let wws = RawBuffer(bytes: WinogradDeconv4s2.workspaceBytes(tile: tile, s, threads: threads))
          // MFLOP/s counts the direct method's operations, so it compares with forward-packed.
          timed("\(l.name) deconv forward-winograd\(tile) b\(batch)", flops: flops) {
            WinogradDeconv4s2.forward(tile: tile, s, x: x.pointer, packedWeights: winograd.pointer, y: y.pointer,
                                      epilogue: Epilogue(activation: .relu), workspace: wws.pointer, threads: threads)
          }
          let scratch = FloatBuffer(WinogradDeconv4s2.scratchCount(tile: tile, inChannels: l.cin, outChannels: l.cout))
          timedWeightPack(batch, "\(l.name) deconv winograd\(tile)", fused: {
            WinogradDeconv4s2.packWeights(tile: tile, inChannels: l.cin, outChannels: l.cout, weights: w.pointer,
                                          into: winograd.pointer, threads: threads)
          }, reference: {
            WinogradDeconv4s2.packWeightsReference(tile: tile, inChannels: l.cin, outChannels: l.cout, weights: w.pointer,
                                                   into: winograd.pointer, scratch: scratch.pointer)
          })
        }
      }
      if l.cout <= NarrowDeconv4s2.maxOutChannels {
        let narrow = FloatBuffer(NarrowDeconv4s2.packedCount(inChannels: l.cin, outChannels: l.cout))
        NarrowDeconv4s2.packWeights(inChannels: l.cin, outChannels: l.cout, weights: w.pointer, into: narrow.pointer)
        timed("\(l.name) deconv forward-narrow b\(batch)", flops: flops) {
          NarrowDeconv4s2.forward(s, x: x.pointer, packedWeights: narrow.pointer, bias: nil, activation: .tanh, y: y.pointer,
                                  pixels: pixels, threads: threads)
        }
      }
      timed("\(l.name) deconv backward-data b\(batch)", flops: flops) {
        Deconv4s2.backwardData(s, dy: y.pointer, weights: w.pointer, dx: x.pointer, workspace: ws.pointer, threads: threads)
      }
      timed("\(l.name) deconv backward-weights b\(batch)", flops: flops) {
        Deconv4s2.backwardWeights(s, x: x.pointer, dy: y.pointer, dw: dw.pointer, accumulate: false,
                                  workspace: ws.pointer, threads: threads)
      }
    }
    for l in DCGAN64.convLayers {
      let s = ConvShape(batch: batch, height: l.side, width: l.side, inChannels: l.cin, outChannels: l.cout)
      let x = FloatBuffer(batch * l.side * l.side * l.cin), w = FloatBuffer(s.weightCount)
      let y = FloatBuffer(batch * l.side * l.side / 4 * l.cout), dw = FloatBuffer(s.weightCount)
      let ws = RawBuffer(bytes: Conv4s2.workspaceBytes(s, threads: threads))
      let flops = 2.0 * Double(batch * l.side * l.side / 4 * 16 * l.cin * l.cout)
      timed("\(l.name) conv forward b\(batch)", flops: flops) {
        Conv4s2.forward(s, x: x.pointer, weights: w.pointer, y: y.pointer, epilogue: Epilogue(activation: .leakyRelu(0.2)),
                        workspace: ws.pointer, threads: threads)
      }
      timed("\(l.name) conv backward-data b\(batch)", flops: flops) {
        Conv4s2.backwardData(s, dy: y.pointer, weights: w.pointer, dx: x.pointer, workspace: ws.pointer, threads: threads)
      }
      // The same backward-data as a Winograd transposed convolution (transformed weights packed
      // once per optimizer step, outside the measurement), as gan-train --winograd runs it.
      let t = ConvShape(batch: batch, height: l.side / 2, width: l.side / 2, inChannels: l.cout, outChannels: l.cin)
      for tile in WinogradDeconv4s2.tiles where WinogradDeconv4s2.supports(tile: tile, t) && l.cin > NarrowDeconv4s2.maxOutChannels {
        let winograd = FloatBuffer(WinogradDeconv4s2.packedCount(tile: tile, inChannels: t.inChannels, outChannels: t.outChannels))
        WinogradDeconv4s2.packWeights(tile: tile, inChannels: t.inChannels, outChannels: t.outChannels, weights: w.pointer,
                                      transposed: true, into: winograd.pointer)
        let wws = RawBuffer(bytes: WinogradDeconv4s2.workspaceBytes(tile: tile, t, threads: threads))
        timed("\(l.name) conv backward-data-winograd\(tile) b\(batch)", flops: flops) {
          WinogradDeconv4s2.forward(tile: tile, t, x: y.pointer, packedWeights: winograd.pointer, y: x.pointer,
                                    workspace: wws.pointer, threads: threads)
        }
        let scratch = FloatBuffer(WinogradDeconv4s2.scratchCount(tile: tile, inChannels: t.inChannels,
                                                                 outChannels: t.outChannels))
        timedWeightPack(batch, "\(l.name) conv backward-data winograd\(tile)", fused: {
          WinogradDeconv4s2.packWeights(tile: tile, inChannels: t.inChannels, outChannels: t.outChannels, weights: w.pointer,
                                        transposed: true, into: winograd.pointer, threads: threads)
        }, reference: {
          WinogradDeconv4s2.packWeightsReference(tile: tile, inChannels: t.inChannels, outChannels: t.outChannels,
                                                 weights: w.pointer, transposed: true, into: winograd.pointer,
                                                 scratch: scratch.pointer)
        })
      }
      for tile in WinogradConv4s2.tiles where WinogradConv4s2.supports(tile: tile, s) && l.cout > NarrowDeconv4s2.maxOutChannels {
        let winograd = FloatBuffer(WinogradConv4s2.packedCount(tile: tile, inChannels: l.cin, outChannels: l.cout))
        let scratch = FloatBuffer(WinogradConv4s2.scratchCount(tile: tile, inChannels: l.cin, outChannels: l.cout))
        timedWeightPack(batch, "\(l.name) conv forward winograd\(tile)", fused: {
          WinogradConv4s2.packWeights(tile: tile, inChannels: l.cin, outChannels: l.cout, weights: w.pointer,
                                      into: winograd.pointer, threads: threads)
        }, reference: {
          WinogradConv4s2.packWeightsReference(tile: tile, inChannels: l.cin, outChannels: l.cout, weights: w.pointer,
                                               into: winograd.pointer, scratch: scratch.pointer)
        })
      }
      timed("\(l.name) conv backward-weights b\(batch)", flops: flops) {
        Conv4s2.backwardWeights(s, x: x.pointer, dy: y.pointer, dw: dw.pointer, accumulate: false,
                                workspace: ws.pointer, threads: threads)
      }
    }
    // Streaming passes: Swift SIMD and their scalar C references side by side.
    for l in DCGAN64.normLayers {
      let rows = batch * l.side * l.side, c = l.channels
      let x = FloatBuffer(rows * c), y = FloatBuffer(rows * c), dy = FloatBuffer(rows * c), dx = FloatBuffer(rows * c)
      let scale = FloatBuffer(c), shift = FloatBuffer(c), mean = FloatBuffer(c), rstd = FloatBuffer(c, fill: 0.02)
      let dg = FloatBuffer(c), db = FloatBuffer(c)
      let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 2 * c)
      let act = l.act
      timed("\(l.name) bn-apply swift-simd b\(batch)", flops: 0) {
        BatchNorm.apply(rows: rows, channels: c, x: x.pointer, scale: scale.pointer, shift: shift.pointer, activation: act, y: y.pointer)
      }
      timed("\(l.name) bn-apply c-ref b\(batch)", flops: 0) {
        ElementwiseReference.bnApply(rows: rows, channels: c, x: x.pointer, scale: scale.pointer, shift: shift.pointer,
                                     activation: act, y: y.pointer)
      }
      timed("\(l.name) bn-backward swift-simd b\(batch)", flops: 0) {
        BatchNorm.backward(rows: rows, channels: c, x: x.pointer, y: y.pointer, dy: dy.pointer, mean: mean.pointer,
                           rstd: rstd.pointer, gamma: scale.pointer, activation: act, dx: dx.pointer, dgamma: dg.pointer,
                           dbeta: db.pointer, accumulate: false, scratch: scratch)
      }
      timed("\(l.name) bn-backward c-ref b\(batch)", flops: 0) {
        ElementwiseReference.bnBackward(rows: rows, channels: c, x: x.pointer, y: y.pointer, dy: dy.pointer, mean: mean.pointer,
                                        rstd: rstd.pointer, gamma: scale.pointer, activation: act, dx: dx.pointer,
                                        dgamma: dg.pointer, dbeta: db.pointer, accumulate: false)
      }
    }
    do {
      let n = batch * 64 * 64 * 3
      let y = FloatBuffer(n), dy = FloatBuffer(n), dx = FloatBuffer(n)
      let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: n)
      bytes.initialize(repeating: 77, count: n)
      timed("G5 tanh-backward swift-simd b\(batch)", flops: 0) { ActivationGrad.tanh(count: n, y: y.pointer, dy: dy.pointer, dx: dx.pointer) }
      timed("G5 tanh-backward c-ref b\(batch)", flops: 0) { ElementwiseReference.tanhBackward(count: n, y: y.pointer, dy: dy.pointer, dx: dx.pointer) }
      timed("image u8-to-f32 swift-simd b\(batch)", flops: 0) { PixelConvert.toFloat(count: n, src: bytes, dst: dx.pointer) }
      timed("image u8-to-f32 c-ref b\(batch)", flops: 0) { ElementwiseReference.toFloat(count: n, src: bytes, dst: dx.pointer) }
      timed("image f32-to-u8 swift-simd b\(batch)", flops: 0) { PixelConvert.toUInt8(count: n, src: y.pointer, dst: bytes) }
      timed("image f32-to-u8 c-ref b\(batch)", flops: 0) { ElementwiseReference.toUInt8(count: n, src: y.pointer, dst: bytes) }
      let m = batch * 32 * 32 * 64
      let ym = FloatBuffer(m), dym = FloatBuffer(m), dxm = FloatBuffer(m)
      timed("D1 lrelu-backward swift-simd b\(batch)", flops: 0) {
        ActivationGrad.leakyRelu(count: m, y: ym.pointer, dy: dym.pointer, slope: 0.2, dx: dxm.pointer)
      }
      timed("D1 lrelu-backward c-ref b\(batch)", flops: 0) {
        ElementwiseReference.leakyReluBackward(count: m, y: ym.pointer, dy: dym.pointer, slope: 0.2, dx: dxm.pointer)
      }
    }
  }
  // Adam over the whole generator (batch-independent).
  do {
    let n = DCGAN64.generatorParameters
    let p = FloatBuffer(n), g = FloatBuffer(n), m = FloatBuffer(n, fill: 0), v = FloatBuffer(n, fill: 0)
    timed("G adam swift-simd", flops: 0) {
      Adam.step(count: n, params: p.pointer, grads: g.pointer, m: m.pointer, v: v.pointer, lr: 2e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8, step: 3)
    }
    timed("G adam c-ref", flops: 0) {
      ElementwiseReference.adam(count: n, params: p.pointer, grads: g.pointer, m: m.pointer, v: v.pointer, lr: 2e-4, beta1: 0.5,
                                beta2: 0.999, eps: 1e-8, step: 3)
    }
  }
  // SWD terms at gan-train's shape: 512 images x 128 patches of 147 floats, 512 directions (one
  // pyramid level; a measurement runs two at 32 px). FLOP: the two sets' projections.
  do {
    let (rows, dim, ndir) = (512 * 128, 147, 512)
    let a = FloatBuffer(rows * dim), b = FloatBuffer(rows * dim), dirs = FloatBuffer(ndir * dim)
    let terms = UnsafeMutablePointer<Double>.allocate(capacity: ndir)
    let ws = RawBuffer(bytes: SlicedWassersteinKernel.workspaceBytes(rows: rows, dimension: dim, threads: threads))
    timed("swd terms rows65536 dim147 dirs512", flops: 4.0 * Double(rows * dim * ndir)) {
      SlicedWassersteinKernel.terms(a.pointer, b.pointer, rows: rows, dimension: dim, directions: dirs.pointer, count: ndir,
                                    into: terms, workspace: ws.pointer, threads: threads)
    }
  }
  attentionBenchmarks()
}
