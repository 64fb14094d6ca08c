import GanKernels
import GanModel
import XCTest

/// The SAGAN kernels against PyTorch autograd (tools/sagan_reference.py, sagan_layers.safetensors):
/// the self-attention core, spectral norm of ConvTranspose2d (dim 1) and Conv2d (dim 0) weights
/// with one training-mode power iteration and the gradient to weight_orig, conditional
/// BatchNorm + ReLU in training mode, and the projection head.
final class PyTorchSAGANLayerTests: XCTestCase {
  func testSelfAttentionMatchesPyTorch() throws {
    let f = try Fixtures.open("sagan_layers.safetensors")
    let s = AttentionShape(batch: 2, positions: 12, keyChannels: 3, valueChannels: 6)
    let q = try f.floats("att.q"), k = try f.floats("att.k"), v = try f.floats("att.v"), g = try f.floats("att.do")
    var a = [Float](repeating: 0, count: s.mapCount), ds = a, o = [Float](repeating: 0, count: v.count), dv = o
    var dq = [Float](repeating: 0, count: q.count), dk = dq
    let ws = Scratch(SelfAttention.workspaceBytes(s, threads: 2))
    SelfAttention.forward(s, q: q, k: k, v: v, attn: &a, o: &o, workspace: ws.raw, threads: 2)
    SelfAttention.backward(s, q: q, k: k, v: v, attn: a, dout: g, ds: &ds, dq: &dq, dk: &dk, dv: &dv,
                           workspace: ws.raw, threads: 2)
    assertMatches(a, try f.floats("att.a"), "attention map")
    assertMatches(o, try f.floats("att.o"), "attention output")
    assertMatches(dq, try f.floats("att.dq"), "attention dQ")
    assertMatches(dk, try f.floats("att.dk"), "attention dK")
    assertMatches(dv, try f.floats("att.dv"), "attention dV")
  }

  func testSpectralNormMatchesPyTorch() throws {
    let f = try Fixtures.open("sagan_layers.safetensors")
    let (cin, cout) = (5, 7)
    for (name, layout) in [("sn_deconv", TensorLayout.deconvWeight(cin: cin, cout: cout)),
                           ("sn_conv", TensorLayout.convWeight(cin: cin, cout: cout))] {
      let m = SpectralMatrix.kkio(inChannels: cin, outChannels: cout)
      func internalOrder(_ torch: [Float]) -> [Float] { try! layoutConvert(torch, layout) }
      // PyTorch's v runs over (ci, ky, kx); the KKIO matrix's columns over (ky, kx, ci).
      func vToInternal(_ t: [Float]) -> [Float] { (0..<(16 * cin)).map { t[($0 % cin) * 16 + $0 / cin] } }
      let w = internalOrder(try f.floats("\(name).weight_orig"))
      var u = try f.floats("\(name).u0"), v = vToInternal(try f.floats("\(name).v0"))
      var scratch = [Float](repeating: 0, count: cout), wsn = [Float](repeating: 0, count: w.count)
      let sigma = SpectralNorm.sigma(m, w: w, u: &u, v: &v, update: true, scratch: &scratch, normalized: &wsn)
      XCTAssertEqual(sigma, try f.floats("\(name).sigma")[0], accuracy: 1e-5 * sigma, name)
      assertMatches(u, try f.floats("\(name).u1"), "\(name) u after one power iteration")
      assertMatches(v, vToInternal(try f.floats("\(name).v1")), "\(name) v after one power iteration")
      assertMatches(wsn, internalOrder(try f.floats("\(name).w_sn")), "\(name) W / sigma")
      let g = internalOrder(try f.floats("\(name).g"))
      var dw = [Float](repeating: 0, count: w.count)
      SpectralNorm.backward(m, w: w, u: u, v: v, sigma: sigma, dNormalized: g, dw: &dw, accumulate: false)
      assertMatches(dw, internalOrder(try f.floats("\(name).dw_orig")), "\(name) gradient to weight_orig")
    }
  }

  func testConditionalBatchNormMatchesPyTorch() throws {
    let f = try Fixtures.open("sagan_layers.safetensors")
    let (n, c, h, w, classes) = (4, 5, 3, 2, 3)
    let p = h * w
    let x = try f.nhwc("cbn.x"), dyTorch = try f.nhwc("cbn.dy")
    let labels = try f.floats("cbn.labels").map { Int32($0) }
    let gain = try f.floats("cbn.gain"), bias = try f.floats("cbn.bias")
    // Batch statistics (biased variance, eps 1e-5) as BatchNorm2d computes them in training mode.
    var mean = [Float](repeating: 0, count: c), rstd = mean
    for j in 0..<c {
      var s = 0.0, ss = 0.0
      for r in 0..<(n * p) { s += Double(x[r * c + j]); ss += Double(x[r * c + j]) * Double(x[r * c + j]) }
      let m = s / Double(n * p)
      mean[j] = Float(m)
      rstd[j] = Float(1 / (ss / Double(n * p) - m * m + 1e-5).squareRoot())
    }
    var scale = [Float](repeating: 0, count: n * c), shift = scale, y = [Float](repeating: 0, count: x.count)
    ConditionalBatchNorm.scaleShift(images: n, channels: c, labels: labels, gain: gain, bias: bias, mean: mean,
                                    rstd: rstd, scale: &scale, shift: &shift)
    for i in 0..<n {
      x.withUnsafeBufferPointer { xp in scale.withUnsafeBufferPointer { sp in shift.withUnsafeBufferPointer { hp in
        y.withUnsafeMutableBufferPointer { yp in
          BatchNorm.apply(rows: p, channels: c, x: xp.baseAddress! + i * p * c, scale: sp.baseAddress! + i * c,
                          shift: hp.baseAddress! + i * c, activation: .relu, y: yp.baseAddress! + i * p * c)
        }
      } } }
    }
    assertMatches(y, try f.nhwc("cbn.y"), "conditional BatchNorm + ReLU forward")
    var dx = [Float](repeating: 0, count: x.count), dgain = [Float](repeating: 0, count: classes * c), dbias = dgain
    var scratch = [Double](repeating: 0, count: (2 * n + 2) * c)
    ConditionalBatchNorm.backward(images: n, rowsPerImage: p, channels: c, classes: classes, labels: labels, x: x,
                                  y: y, dy: dyTorch, mean: mean, rstd: rstd, gain: gain, activation: .relu, dx: &dx,
                                  dgain: &dgain, dbias: &dbias, accumulate: false, scratch: &scratch)
    assertMatches(dx, try f.nhwc("cbn.dx"), "conditional BatchNorm dx")
    assertMatches(dgain, try f.floats("cbn.dgain"), "conditional BatchNorm d gain table")
    assertMatches(dbias, try f.floats("cbn.dbias"), "conditional BatchNorm d bias table")
  }

  func testProjectionHeadMatchesPyTorch() throws {
    let f = try Fixtures.open("sagan_layers.safetensors")
    let (n, c, p) = (4, 6, 16)
    let h = try f.nhwc("proj.h"), embed = try f.floats("proj.embed"), dl = try f.floats("proj.dlogit")
    let labels = try f.floats("proj.labels").map { Int32($0) }
    var logit = [Float](repeating: 0, count: n), dh = [Float](repeating: 0, count: h.count)
    var dembed = [Float](repeating: 0, count: embed.count)
    ProjectionHead.forward(images: n, positions: p, channels: c, labels: labels, h: h, embed: embed, logit: &logit)
    ProjectionHead.backward(images: n, positions: p, channels: c, labels: labels, h: h, embed: embed, dlogit: dl,
                            dh: &dh, accumulate: false, dembed: &dembed)
    assertMatches(logit, try f.floats("proj.logit"), "projection logit")
    assertMatches(dh, try f.nhwc("proj.dh"), "projection dh")
    assertMatches(dembed, try f.floats("proj.dembed"), "projection d embed")
  }
}

/// A PyTorch-layout weight in the internal layout.
func layoutConvert(_ torch: [Float], _ layout: TensorLayout) throws -> [Float] {
  var out = [Float](repeating: 0, count: layout.count)
  torch.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { layout.fromTorch(src.baseAddress!, to: $0.baseAddress!) } }
  return out
}
