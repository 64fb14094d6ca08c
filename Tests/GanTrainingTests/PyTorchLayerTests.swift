import XCTest
import GanKernels
import GanModel

/// Each layer kernel against PyTorch (tools/make_fixtures.py): outputs and gradients within 1e-4
/// relative in the infinity norm (max |error| / max |PyTorch value|).
final class PyTorchLayerTests: XCTestCase {
  let threads = 2

  func testConvTranspose2dStride2() throws {
    let f = try Fixtures.open("layers.safetensors")
    let (xv, xs) = try f.tensor("deconv.x")
    let s = ConvShape(batch: xs[0], height: xs[2], width: xs[3], inChannels: xs[1], outChannels: 7)
    let x = Buf(try f.nhwc("deconv.x")), dy = Buf(try f.nhwc("deconv.dy"))
    _ = xv
    let w = Buf(zeros: s.weightCount)
    try f.floats("deconv.w").withUnsafeBufferPointer {
      TensorLayout.deconvWeight(cin: 5, cout: 7).fromTorch($0.baseAddress!, to: w.p)
    }
    let ws = Scratch(Deconv4s2.workspaceBytes(s, threads: threads))
    let y = Buf(zeros: dy.count)
    Deconv4s2.forward(s, x: x.p, weights: w.p, y: y.p, workspace: ws.raw, threads: threads)
    assertMatches(y.array, try f.nhwc("deconv.y"), "ConvTranspose2d forward")
    let dx = Buf(zeros: x.count)
    Deconv4s2.backwardData(s, dy: dy.p, weights: w.p, dx: dx.p, workspace: ws.raw, threads: threads)
    assertMatches(dx.array, try f.nhwc("deconv.dx"), "ConvTranspose2d backward data")
    let dw = Buf(zeros: s.weightCount)
    Deconv4s2.backwardWeights(s, x: x.p, dy: dy.p, dw: dw.p, accumulate: false, workspace: ws.raw, threads: threads)
    var dwTorch = [Float](repeating: 0, count: s.weightCount)
    dwTorch.withUnsafeMutableBufferPointer { TensorLayout.deconvWeight(cin: 5, cout: 7).toTorch(dw.p,
        to: $0.baseAddress!) }
    assertMatches(dwTorch, try f.floats("deconv.dw"), "ConvTranspose2d backward weights")
  }

  func testConv2dStride2() throws {
    let f = try Fixtures.open("layers.safetensors")
    let xs = try f.tensor("conv.x").shape
    let s = ConvShape(batch: xs[0], height: xs[2], width: xs[3], inChannels: xs[1], outChannels: 7)
    let layout = TensorLayout.convWeight(cin: 5, cout: 7)
    let x = Buf(try f.nhwc("conv.x")), dy = Buf(try f.nhwc("conv.dy"))
    let w = Buf(zeros: s.weightCount)
    try f.floats("conv.w").withUnsafeBufferPointer { layout.fromTorch($0.baseAddress!, to: w.p) }
    let ws = Scratch(Conv4s2.workspaceBytes(s, threads: threads))
    let y = Buf(zeros: dy.count)
    Conv4s2.forward(s, x: x.p, weights: w.p, y: y.p, workspace: ws.raw, threads: threads)
    assertMatches(y.array, try f.nhwc("conv.y"), "Conv2d forward")
    let dx = Buf(zeros: x.count)
    Conv4s2.backwardData(s, dy: dy.p, weights: w.p, dx: dx.p, workspace: ws.raw, threads: threads)
    assertMatches(dx.array, try f.nhwc("conv.dx"), "Conv2d backward data")
    let dw = Buf(zeros: s.weightCount)
    Conv4s2.backwardWeights(s, x: x.p, dy: dy.p, dw: dw.p, accumulate: false, workspace: ws.raw, threads: threads)
    var dwTorch = [Float](repeating: 0, count: s.weightCount)
    dwTorch.withUnsafeMutableBufferPointer { layout.toTorch(dw.p, to: $0.baseAddress!) }
    assertMatches(dwTorch, try f.floats("conv.dw"), "Conv2d backward weights")
  }

  /// The generator's ConvTranspose2d(4, 1, 0) from 1x1 and the discriminator's Conv2d(4, 1, 0) as dense layers.
  func testProjectionAndFinalConvolution() throws {
    let f = try Fixtures.open("layers.safetensors")
    for (tag, layout, n, kin, kout) in [("proj", TensorLayout.projectionWeight(cin: 10, cout: 6), 3, 10, 96),
                                        ("final", TensorLayout.convWeight(cin: 6, cout: 1), 3, 96, 1)] {
      let x = Buf(try f.nhwc("\(tag).x")), dy = Buf(try f.nhwc("\(tag).dy"))
      let w = Buf(zeros: kin * kout)
      try f.floats("\(tag).w").withUnsafeBufferPointer { layout.fromTorch($0.baseAddress!, to: w.p) }
      let ws = Scratch(Dense.workspaceBytes(batch: n, inFeatures: kin, outFeatures: kout, threads: threads))
      let y = Buf(zeros: n * kout)
      Dense.forward(batch: n, inFeatures: kin, outFeatures: kout, x: x.p, weights: w.p, y: y.p, workspace: ws.raw,
                    threads: threads)
      assertMatches(y.array, try f.nhwc("\(tag).y"), "\(tag) forward")
      let dx = Buf(zeros: n * kin)
      Dense.backwardData(batch: n, inFeatures: kin, outFeatures: kout, dy: dy.p, weights: w.p, dx: dx.p,
                         workspace: ws.raw, threads: threads)
      assertMatches(dx.array, try f.nhwc("\(tag).dx"), "\(tag) backward data")
      let dw = Buf(zeros: kin * kout)
      Dense.backwardWeights(batch: n, inFeatures: kin, outFeatures: kout, x: x.p, dy: dy.p, dw: dw.p, accumulate: false,
                            workspace: ws.raw, threads: threads)
      var dwTorch = [Float](repeating: 0, count: kin * kout)
      dwTorch.withUnsafeMutableBufferPointer { layout.toTorch(dw.p, to: $0.baseAddress!) }
      assertMatches(dwTorch, try f.floats("\(tag).dw"), "\(tag) backward weights")
    }
  }

  func testBatchNormTrainingForwardBackwardAndRunningStatistics() throws {
    let f = try Fixtures.open("layers.safetensors")
    for (tag, act) in [("bn_relu", Activation.relu), ("bn_lrelu", Activation.leakyRelu(0.2))] {
      let xs = try f.tensor("\(tag).x").shape
      let c = xs[1], rows = xs[0] * xs[2] * xs[3]
      let x = Buf(try f.nhwc("\(tag).x")), dy = Buf(try f.nhwc("\(tag).dy"))
      let gamma = Buf(try f.floats("\(tag).gamma")), beta = Buf(try f.floats("\(tag).beta"))
      let rm = Buf(try f.floats("\(tag).running_mean0")), rv = Buf(try f.floats("\(tag).running_var0"))
      var sum = [Double](repeating: 0, count: c), sq = sum
      for r in 0..<rows { for j in 0..<c { let v = Double(x.p[r * c + j]); sum[j] += v; sq[j] += v * v } }
      let mean = Buf(zeros: c), rstd = Buf(zeros: c), scale = Buf(zeros: c), shift = Buf(zeros: c)
      BatchNorm.statistics(rows: rows, channels: c, sum: sum, sumOfSquares: sq, eps: 1e-5, momentum: 0.1,
                           mean: mean.p, rstd: rstd.p, runningMean: rm.p, runningVar: rv.p)
      BatchNorm.foldScaleShift(channels: c, gamma: gamma.p, beta: beta.p, mean: mean.p, rstd: rstd.p, scale: scale.p,
                               shift: shift.p)
      let y = Buf(zeros: x.count)
      BatchNorm.apply(rows: rows, channels: c, x: x.p, scale: scale.p, shift: shift.p, activation: act, y: y.p)
      assertMatches(y.array, try f.nhwc("\(tag).y"), "\(tag) forward")
      assertMatches(rm.array, try f.floats("\(tag).running_mean"), "\(tag) running_mean")
      assertMatches(rv.array, try f.floats("\(tag).running_var"), "\(tag) running_var")
      let dx = Buf(zeros: x.count), dg = Buf(zeros: c), db = Buf(zeros: c)
      var scratch = [Double](repeating: 0, count: 2 * c)
      BatchNorm.backward(rows: rows, channels: c, x: x.p, y: y.p, dy: dy.p, mean: mean.p, rstd: rstd.p, gamma: gamma.p,
                         activation: act, dx: dx.p, dgamma: dg.p, dbeta: db.p, accumulate: false, scratch: &scratch)
      assertMatches(dx.array, try f.nhwc("\(tag).dx"), "\(tag) dx")
      assertMatches(dg.array, try f.floats("\(tag).dgamma"), "\(tag) dgamma")
      assertMatches(db.array, try f.floats("\(tag).dbeta"), "\(tag) dbeta")
    }
  }

  func testTanhLeakyReluAndBCE() throws {
    let f = try Fixtures.open("layers.safetensors")
    let tx = try f.floats("tanh.x"), ty = try f.floats("tanh.y")
    assertMatches(tx.map { ElementwiseReference.epilogueTanh($0) }, ty, "tanh forward (GEMM epilogue)", tolerance: 1e-6)
    let tdy = Buf(try f.floats("tanh.dy")), tyb = Buf(ty), tdx = Buf(zeros: ty.count)
    ActivationGrad.tanh(count: ty.count, y: tyb.p, dy: tdy.p, dx: tdx.p)
    assertMatches(tdx.array, try f.floats("tanh.dx"), "tanh backward")
    let ly = Buf(try f.floats("lrelu.y")), ldy = Buf(try f.floats("lrelu.dy")), ldx = Buf(zeros: ly.count)
    ActivationGrad.leakyRelu(count: ly.count, y: ly.p, dy: ldy.p, slope: 0.2, dx: ldx.p)
    assertMatches(ldx.array, try f.floats("lrelu.dx"), "LeakyReLU backward")
    for (tag, target) in [("bce1", Float(1)), ("bce0", Float(0))] {
      let x = try f.floats("\(tag).x")
      let g = Buf(zeros: x.count)
      let loss = BCEWithLogits.loss(x, count: x.count, target: target, gradient: g.p)
      assertMatches([Float(loss)], try f.floats("\(tag).loss"), "\(tag) loss")
      assertMatches(g.array, try f.floats("\(tag).dx"), "\(tag) gradient")
    }
  }

  func testTenAdamStepsMatchTorchOptimAdam() throws {
    let f = try Fixtures.open("layers.safetensors")
    let p = Buf(try f.floats("adam.p0"))
    let n = p.count
    let grads = try f.floats("adam.grads"), want = try f.floats("adam.params")
    let m = Buf(zeros: n), v = Buf(zeros: n)
    for step in 1...10 {
      let g = Buf(Array(grads[((step - 1) * n)..<(step * n)]))
      Adam.step(count: n, params: p.p, grads: g.p, m: m.p, v: v.p, lr: 2e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8,
                step: step)
      let w = Array(want[((step - 1) * n)..<(step * n)])
      // Parameters move by ~1e-4 per step: compare the update itself, too.
      assertMatches(p.array, w, "Adam step \(step) parameters", tolerance: 1e-6)
    }
    let p0 = try f.floats("adam.p0")
    let got = zip(p.array, p0).map { $0 - $1 }, expect = zip(Array(want[(9 * n)...]), p0).map { $0 - $1 }
    assertMatches(got, expect, "Adam: total update after 10 steps", tolerance: 1e-4)
  }
}
