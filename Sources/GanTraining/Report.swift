import Foundation
import GanModel

/// report.html: loss and D-output curves as inline SVG and the sample grids as data: URIs, so the
/// file stands alone (no external assets). Rewritten whenever samples are written.
enum Report {
  /// The last iteration's statistics as the report's summary line.
  private static func lastLine(_ s: StepStatistics) -> String {
    "Loss_D \(formatFixed(s.lossD, 4)), Loss_G \(formatFixed(s.lossG, 4)), D(x) \(formatFixed(s.dx, 3)), " +
      "D(G(z)) \(formatFixed(s.dgz1, 3)) / \(formatFixed(s.dgz2, 3))"
  }

  static func write(path: String, history: [(Int, StepStatistics)], grids: [(label: String, file: String)],
                    directory: String, title: String, realSamples: String, swd: [(Int, Double)] = []) throws {
    var html = """
    <!DOCTYPE html><html><head><meta charset="utf-8"><title>\(escape(title))</title>
    <style>body{font-family:sans-serif;margin:1.5em;color:#222}h2{margin-top:1.5em}
    .grids{display:flex;flex-wrap:wrap;gap:12px}.grids figure{margin:0}figcaption{font-size:12px;color:#555}
    img{image-rendering:pixelated;width:280px}</style></head><body>
    <h1>\(escape(title))</h1>
    <p>Iterations: \(history.last?.0 ?? 0). Last: \(history.last.map { lastLine($0.1) } ?? "-").
    Updated \(ISO8601DateFormatter().string(from: Date())).</p>
    <h2>Losses</h2>
    """
    html += chart(history.map { ($0.0, [$0.1.lossD, $0.1.lossG]) }, names: ["Loss_D", "Loss_G"],
                  colors: ["#d62728", "#1f77b4"])
    html += "<h2>Discriminator outputs</h2>"
    html += chart(history.map { ($0.0, [$0.1.dx, $0.1.dgz1, $0.1.dgz2]) }, names: ["D(x)", "D(G(z)) before D step",
        "D(G(z)) after"],
                  colors: ["#2ca02c", "#ff7f0e", "#9467bd"])
    if !swd.isEmpty {
      html += "<h2>Sliced Wasserstein distance (x1e3, mean over pyramid levels; lower is better)</h2>"
      html += "<p>Last: \(formatFixed(swd.last!.1, 1)) at iteration \(swd.last!.0).</p>"
      html += chart(swd.map { ($0.0, [$0.1]) }, names: ["SWD x1e3"], colors: ["#17becf"])
    }
    html += "<h2>Samples from fixed noise</h2><div class=\"grids\">"
    var shown: [(String, String)] = [("real samples", realSamples)]
    // The most recent 11 grids (the report stays small).
    shown += grids.suffix(11).map { ($0.label, $0.file) }
    for (label, file) in shown {
      guard let data = FileManager.default.contents(atPath: directory + "/" + file) else { continue }
      html += "<figure><img alt=\"\(escape(label))\" " +
              "src=\"data:image/png;base64,\(data.base64EncodedString())\"><figcaption>\(escape(label)) " +
              "(\(escape(file)))</figcaption></figure>"
    }
    html += "</div></body></html>\n"
    try writeFileAtomically(path: path, bytes: Array(html.utf8))
  }

  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<",
                                                                        with: "&lt;").replacingOccurrences(of: ">",
                                                                            with: "&gt;")
      .replacingOccurrences(of: "\"", with: "&quot;")
  }

  /// A line chart of several series over iterations, downsampled to at most 600 points per series.
  static func chart(_ points: [(Int, [Double])], names: [String], colors: [String]) -> String {
    let w = 720.0, h = 260.0, left = 50.0, bottom = 30.0, top = 10.0, right = 150.0
    guard points.count >= 2 else { return "<p>(not enough points yet)</p>" }
    let step = max(1, points.count / 600)
    let sampled = stride(from: 0, to: points.count, by: step).map { points[$0] } + [points.last!]
    let finite = sampled.flatMap { $0.1 }.filter { $0.isFinite }
    var lo = finite.min() ?? 0, hi = finite.max() ?? 1
    if hi - lo < 1e-9 { hi = lo + 1 }
    let pad = (hi - lo) * 0.05
    lo -= pad; hi += pad
    let x0 = Double(sampled.first!.0), x1 = Double(max(sampled.last!.0, sampled.first!.0 + 1))
    func px(_ it: Int) -> Double { left + (Double(it) - x0) / (x1 - x0) * (w - left - right) }
    func py(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * (h - top - bottom) }
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-size=\"11\">"
    svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w - left - right)\" height=\"\(h - top - bottom)\" " +
           "fill=\"none\" stroke=\"#999\"/>"
    for k in 0...4 {
      let v = lo + (hi - lo) * Double(k) / 4
      svg += "<text x=\"\(left - 4)\" y=\"\(formatFixed(py(v) + 4, 1))\" " +
             "text-anchor=\"end\">\(formatFixed(v, 2))</text>"
      let it = Int(x0 + (x1 - x0) * Double(k) / 4)
      svg += "<text x=\"\(formatFixed(px(it), 1))\" y=\"\(h - 12)\" text-anchor=\"middle\">\(it)</text>"
    }
    for (s, name) in names.enumerated() {
      let pts = sampled.compactMap { p -> String? in
        let v = p.1[s]
        return v.isFinite ? "\(formatFixed(px(p.0), 1)),\(formatFixed(py(v), 1))" : nil
      }.joined(separator: " ")
      svg += "<polyline fill=\"none\" stroke=\"\(colors[s])\" stroke-width=\"1.2\" points=\"\(pts)\"/>"
      svg += "<text x=\"\(w - right + 8)\" y=\"\(top + 14 + Double(s) * 16)\" " +
             "fill=\"\(colors[s])\">\(escape(name))</text>"
    }
    return svg + "</svg>"
  }
}
