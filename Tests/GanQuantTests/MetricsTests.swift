import GanQuant
import XCTest

final class MetricsTests: XCTestCase {
  func testSSIMOfIdenticalImagesIsOne() {
    let n = 16 * 16 * 3
    let a = (0..<n).map { Float(sin(Double($0) * 0.37)) }
    XCTAssertEqual(a.withUnsafeBufferPointer { ImageMetrics.ssim($0.baseAddress!, $0.baseAddress!, size: 16,
                                                                 channels: 3) }, 1, accuracy: 1e-12)
  }

  /// Constant images a, b (in [0, 1]): the structure term is 1 and SSIM = (2ab + C1) / (a^2 + b^2 + C1).
  func testSSIMOfConstantImagesMatchesTheFormula() {
    let n = 12 * 12
    let a = [Float](repeating: 0.2, count: n), b = [Float](repeating: -0.4, count: n)  // 0.6 and 0.3 in [0, 1]
    let got = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { ImageMetrics.ssim(pa.baseAddress!,
        $0.baseAddress!, size: 12, channels: 1) } }
    let x = (Double(Float(0.2)) + 1) / 2, y = (Double(Float(-0.4)) + 1) / 2, c1 = 0.0001
    XCTAssertEqual(got, (2 * x * y + c1) / (x * x + y * y + c1), accuracy: 1e-7)
  }

  func testSSIMFallsWithNoise() {
    let n = 32 * 32 * 3
    let a = (0..<n).map { Float(sin(Double($0 % 96) * 0.1 + Double($0 / 96) * 0.05)) * 0.8 }
    func noisy(_ amp: Float) -> [Float] { (0..<n).map { a[$0] + amp * Float(sin(Double($0) * 12.9898) * 43758.5453).truncatingRemainder(dividingBy: 1) } }
    func ssim(_ b: [Float]) -> Double { a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { ImageMetrics.ssim(pa.baseAddress!, $0.baseAddress!, size: 32, channels: 3) } } }
    let s1 = ssim(noisy(0.05)), s2 = ssim(noisy(0.2))
    XCTAssertLessThan(s1, 1)
    XCTAssertLessThan(s2, s1)
  }

  func testPSNRAndSQNR() {
    XCTAssertEqual(ImageMetrics.psnr(meanSquaredError: 4e-4), 40, accuracy: 1e-9)
    XCTAssertEqual(ImageMetrics.sqnr(signal: 1000, noise: 1), 30, accuracy: 1e-9)
  }

  func testHistogramThresholds() {
    // 1000 values 0.001 ... 1.0 plus 1000 zeros.
    var values = (1...1000).map { Float($0) / 1000 }
    values += [Float](repeating: 0, count: 1000)
    var h = ActivationHistogram(maximum: 1)
    values.withUnsafeBufferPointer { h.add($0.baseAddress!, count: $0.count) }
    XCTAssertEqual(h.total, 2000)
    XCTAssertEqual(h.threshold(method: .minmax, percentile: 100, qmax: 255), 1)
    // The 90th percentile of all 2000 values is the 800th non-zero one: 0.8.
    XCTAssertEqual(h.threshold(method: .percentile, percentile: 90, qmax: 255), 0.8, accuracy: 1.0 / 2048 + 1e-6)
    // Uniform values: clipping costs more than rounding saves, so MSE keeps (almost) all.
    XCTAssertGreaterThan(h.threshold(method: .mse, percentile: 0, qmax: 255), 0.97)
    // A long tail (one value at 100, a million below 1): rounding all of them with a step of
    // 100/255 costs more than clipping the one, so MSE clips it.
    var tail = ActivationHistogram(maximum: 100)
    var t = (1...1_000_000).map { Float($0) / 1_000_000 }
    t.append(100)
    t.withUnsafeBufferPointer { tail.add($0.baseAddress!, count: $0.count) }
    XCTAssertLessThan(tail.threshold(method: .mse, percentile: 0, qmax: 255), 60)
  }

  func testPerChannelWeightQuantization() {
    // (cin 2, cout 3, 4, 4): channel 1 all zero, channel 2 with max 2.54.
    var w = [Float](repeating: 0, count: 2 * 3 * 16)
    for ci in 0..<2 { for k in 0..<16 { w[(ci * 3 + 0) * 16 + k] = Float(k - 8) * 0.1; w[(ci * 3 + 2) * 16 + k] = Float(k) * 0.02 * Float(ci + 1) + (k == 15 && ci == 1 ? 1.94 : 0) } }
    let (codes, scales) = quantizeWeightsPerOutputChannel(w, inChannels: 2, outChannels: 3)
    XCTAssertEqual(scales[0], 0.8 / 127, accuracy: 1e-7)
    XCTAssertEqual(scales[1], 1)
    XCTAssertEqual(scales[2], 2.54 / 127, accuracy: 1e-6)
    XCTAssertEqual(codes[(1 * 3 + 2) * 16 + 15], 127)
    XCTAssertEqual(codes[(0 * 3 + 0) * 16 + 0], -127)
    for (e, c) in codes.enumerated() {
      let s = scales[(e / 16) % 3]
      XCTAssertLessThanOrEqual(abs(Float(c) * s - w[e]), s / 2 + 1e-6)
    }
  }
}
