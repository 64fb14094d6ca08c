import Foundation
import GanData
import GanImage
import GanModel
import GanTestSupport
import XCTest

final class ImageTests: XCTestCase {
  let fixtures = String(#filePath[..<#filePath.lastIndex(of: "/")!]) + "/Fixtures"

  func testDecodesJPEGAndCompositesPNGAlphaOverWhite() throws {
    let jpg = try Image.load(path: fixtures + "/halves.jpg", channels: 3)
    XCTAssertEqual([jpg.width, jpg.height, jpg.channels], [40, 30, 3])
    let left = Array(jpg.pixels[(15 * 40 + 5) * 3..<(15 * 40 + 5) * 3 + 3]), right = Array(jpg.pixels[(15 * 40 + 35) * 3..<(15 * 40 + 35) * 3 + 3])
    for (got, want) in zip(left + right, [200, 40, 10, 10, 90, 250]) { XCTAssertEqual(Double(got), Double(want),
        accuracy: 6) }
    let gray = try Image.load(path: fixtures + "/halves.jpg", channels: 1)
    XCTAssertEqual(gray.channels, 1)
    let png = try Image.load(path: fixtures + "/red_half_alpha.png", channels: 3)
    XCTAssertEqual(Array(png.pixels[0..<3]), [255, 127, 127])
  }

  func testUnreadableFilesGiveTheReason() {
    XCTAssertThrowsError(try Image.load(path: fixtures + "/not_an_image.jpg", channels: 3)) { e in
      XCTAssert("\(e)".contains("not_an_image.jpg: not a PNG or JPEG file"), "\(e)")
    }
    XCTAssertThrowsError(try Image.load(path: fixtures + "/missing.png", channels: 3)) { e in
      XCTAssert("\(e)".contains("No such file"), "\(e)")
    }
  }

  func testPNGRoundTripCropAndAreaResize() throws {
    var img = Image(width: 8, height: 4, channels: 1)
    for y in 0..<4 { for x in 0..<8 { img.pixels[y * 8 + x] = UInt8(x < 4 ? 10 : 250) } }
    let path = NSTemporaryDirectory() + "/gan-\(UUID().uuidString).png"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try img.writePNG(path: path)
    XCTAssertEqual(try Image.load(path: path, channels: 1), img)
    // Centre square is columns 2..5: halves of 10 and 250; resized to 2x2, each output averages one half.
    let r = img.centerCropResized(to: 2)
    XCTAssertEqual(r.pixels, [10, 250, 10, 250])
    // Area resize 4 -> 3: the middle output straddles both halves with weights 1/2, 1/2... of a third.
    let r3 = img.centerCropResized(to: 3)
    XCTAssertEqual(r3.pixels[0], 10)
    XCTAssertEqual(r3.pixels[1], 130)
    XCTAssertEqual(r3.pixels[2], 250)
  }
}

final class DatasetTests: ScratchDirectoryTestCase {
  override var scratchPrefix: String { "gan-data" }
  var cache = ""

  override func setUp() {
    super.setUp()
    cache = dir + "/cache"
    try? FileManager.default.createDirectory(atPath: dir + "/images/sub/deeper", withIntermediateDirectories: true)
  }

  func testFolderIsSearchedRecursivelyUnreadableFilesAreCountedAndTheCacheIsReused() throws {
    for (i, name) in ["a.png", "sub/B.PNG", "sub/deeper/c.Png", "sub/d.JPG"].enumerated() {
      var img = Image(width: 12, height: 8, channels: 3, fill: UInt8(40 * (i + 1)))
      img.pixels[0] = 0
      if name.hasSuffix("JPG") {
        try FileManager.default.copyItem(atPath: String(#filePath[..<#filePath.lastIndex(of: "/")!]) + "/Fixtures/halves.jpg", toPath: dir + "/images/" + name)
      } else {
        try img.writePNG(path: dir + "/images/" + name)
      }
    }
    try "broken".write(toFile: dir + "/images/sub/broken.jpeg", atomically: true, encoding: .utf8)
    try "text".write(toFile: dir + "/images/readme.txt", atomically: true, encoding: .utf8)
    var lines: [String] = []
    let ds = try DatasetLoader.load(.folder(dir + "/images"), size: 8, channels: 3,
                                    cacheDirectory: cache) { lines.append($0) }
    XCTAssertEqual(ds.count, 4)
    XCTAssertEqual(ds.skipped, 1)
    XCTAssert(ds.unreadableFiles.first?.contains("broken.jpeg") ?? false, "\(ds.unreadableFiles)")
    XCTAssertEqual(ds.size, 8)
    // a.png: 12x8 -> centre 8x8 of value 40 (the modified corner pixel is cropped away).
    XCTAssertEqual(Set(Array(UnsafeBufferPointer(start: ds.pixels(0), count: 8 * 8 * 3))), [40])
    // Second load comes from the cache.
    var again: [String] = []
    let ds2 = try DatasetLoader.load(.folder(dir + "/images"), size: 8, channels: 3,
                                     cacheDirectory: cache) { again.append($0) }
    XCTAssert(again.joined().contains("from cache"), "\(again)")
    XCTAssertEqual(ds2.count, 4)
    XCTAssertEqual(ds2.skipped, 1)
    // Changing the inputs rebuilds.
    try Image(width: 8, height: 8, channels: 3, fill: 7).writePNG(path: dir + "/images/e.png")
    var third: [String] = []
    XCTAssertEqual(try DatasetLoader.load(.folder(dir + "/images"), size: 8, channels: 3,
                                          cacheDirectory: cache) { third.append($0) }.count, 5)
    XCTAssertFalse(third.joined().contains("from cache"))
  }

  func testNoUsableImageIsAClearError() throws {
    try "x".write(toFile: dir + "/images/x.png", atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try DatasetLoader.load(.folder(dir + "/images"), size: 8, channels: 3,
                                                cacheDirectory: cache)) { e in
      XCTAssert("\(e)".contains("no usable image"), "\(e)")
    }
    // The failed build left neither a cache file nor its temporary (AtomicFile).
    let left = (try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []
    XCTAssertFalse(left.contains { $0.hasSuffix(".gandata") || $0.contains(".tmp-") }, "\(left)")
    try FileManager.default.removeItem(atPath: dir + "/images/x.png")
    XCTAssertThrowsError(try DatasetLoader.load(.folder(dir + "/images"), size: 8, channels: 3,
                                                cacheDirectory: cache)) { e in
      XCTAssert("\(e)".contains("no .png, .jpg or .jpeg images"), "\(e)")
    }
  }

  func testIDXIsPaddedTo32AndScaledToMinusOneOne() throws {
    var bytes: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]
    bytes += [UInt8](repeating: 255, count: 28 * 28) + [UInt8](repeating: 0, count: 28 * 28)
    let path = dir + "/train-images-idx3-ubyte"
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    XCTAssertEqual(try DataSource.resolve(path), .idx([path]))
    let ds = try DatasetLoader.load(.idx([path]), size: 32, channels: 1, cacheDirectory: cache)
    XCTAssertEqual(ds.count, 2)
    let p = ds.pixels(0)
    XCTAssertEqual(p[0], 0)              // padding
    XCTAssertEqual(p[2 * 32 + 2], 255)   // first image pixel
    XCTAssertEqual(p[29 * 32 + 29], 255)
    XCTAssertEqual(p[30 * 32 + 30], 0)
    var batch = [Float](repeating: 9, count: 2 * 32 * 32)
    ds.fillBatch([0, 1], into: &batch)
    XCTAssertEqual(batch[0], -1)
    XCTAssertEqual(batch[2 * 32 + 2], 1)
    XCTAssertEqual(batch[32 * 32 + 500], -1)
    // Truncated IDX.
    FileManager.default.createFile(atPath: path + "2", contents: Data(Array(bytes.prefix(100))))
    XCTAssertThrowsError(try DatasetLoader.load(.idx([path + "2"]), size: 32, channels: 1,
                                                cacheDirectory: cache)) { e in
      XCTAssert("\(e)".contains("truncated IDX"), "\(e)")
    }
  }

  func testUInt8NpyArrays() throws {
    // (3, 4, 4, 3) uint8, written as NumPy does.
    var header = "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 4, 4, 3), }"
    while (10 + header.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + Array(header.utf8)
    bytes += (0..<(3 * 48)).map { UInt8($0) }
    let path = dir + "/x.npy"
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    let source = try DataSource.resolve(path)
    XCTAssertEqual(source.defaultChannels, 3)
    let ds = try DatasetLoader.load(source, size: 4, channels: 3, cacheDirectory: cache)
    XCTAssertEqual(ds.count, 3)
    XCTAssertEqual(ds.pixels(2)[0], 96)
    XCTAssertThrowsError(try DataSource.resolve(dir + "/nothing-here"))
  }

  func testFloatNpyRoundTrip() throws {
    let values: [Float] = [1, -2.5, 3e-8, .pi, 0, 7]
    let path = dir + "/f.npy"
    try values.withUnsafeBufferPointer { try NPY.writeFloat32(path: path, values: $0, shape: [2, 3]) }
    let (v, s) = try NPY.readFloat32(path: path)
    XCTAssertEqual(v, values)
    XCTAssertEqual(s, [2, 3])
    XCTAssertThrowsError(try NPY.readUInt8(path: path)) { e in XCTAssert("\(e)".contains("expected uint8"), "\(e)") }
  }
}
