import Foundation
import GanData
import GanImage
import GanModel
import GanTestSupport
import XCTest

/// Class labels for conditional training: ImageFolder class folders (sorted names, unreadable
/// files skipped, kept across the dataset cache), IDX labels files and uint8/int64 .npy labels,
/// each checked against the images.
final class LabelTests: ScratchDirectoryTestCase {
  func npy(_ descr: String, _ shape: String, _ data: [UInt8]) -> [UInt8] {
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
    while (10 + header.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + Array(header.utf8) + data
  }

  func testClassFoldersFollowImageFolderAndSurviveTheCache() throws {
    let root = dir + "/train", fm = FileManager.default
    for c in ["dog", "cat", "emu", ".hidden"] { try fm.createDirectory(atPath: root + "/" + c, withIntermediateDirectories: true) }
    for (i, f) in ["cat/a.png", "cat/b.png", "dog/c.png"].enumerated() {
      try Image(width: 6, height: 6, channels: 3, fill: UInt8(60 * i)).writePNG(path: root + "/" + f)
    }
    try "broken".write(toFile: root + "/emu/broken.png", atomically: true, encoding: .utf8)
    let ds = try DatasetLoader.load(.folder(root), size: 4, channels: 3, cacheDirectory: dir + "/cache")
    XCTAssertEqual(ds.imageFolders, ["cat", "cat", "dog"])
    XCTAssertThrowsError(try DatasetLabels.load(.classFolders, for: ds, dataSource: .folder(root))) { e in
      XCTAssertEqual("\(e)", "\(root)/emu: class folder without a usable image")
    }
    try Image(width: 6, height: 6, channels: 3, fill: 9).writePNG(path: root + "/emu/e.png")
    let ds2 = try DatasetLoader.load(.folder(root), size: 4, channels: 3, cacheDirectory: dir + "/cache")
    let labels = try DatasetLabels.load(.classFolders, for: ds2, dataSource: .folder(root))
    XCTAssertEqual(labels.classNames, ["cat", "dog", "emu"])
    XCTAssertEqual(labels.labels, [0, 0, 1, 2])
    // From the cache (no decoding): the same folders.
    var lines: [String] = []
    let ds3 = try DatasetLoader.load(.folder(root), size: 4, channels: 3, cacheDirectory: dir + "/cache") { lines.append($0) }
    XCTAssertTrue(lines.contains { $0.contains("from cache") }, "\(lines)")
    XCTAssertEqual(try DatasetLabels.load(.classFolders, for: ds3, dataSource: .folder(root)), labels)
  }

  func testAnImageOutsideEveryClassFolderIsAnError() throws {
    let root = dir + "/train"
    try FileManager.default.createDirectory(atPath: root + "/cat", withIntermediateDirectories: true)
    try Image(width: 6, height: 6, channels: 3, fill: 1).writePNG(path: root + "/cat/a.png")
    try Image(width: 6, height: 6, channels: 3, fill: 2).writePNG(path: root + "/stray.png")
    let ds = try DatasetLoader.load(.folder(root), size: 4, channels: 3, cacheDirectory: dir + "/cache")
    XCTAssertThrowsError(try DatasetLabels.load(.classFolders, for: ds, dataSource: .folder(root))) { e in
      XCTAssertTrue("\(e)".contains("is not inside a class subfolder"), "\(e)")
    }
    XCTAssertThrowsError(try DatasetLabels.load(.classFolders, for: ds, dataSource: .npy(dir + "/x.npy")))
  }

  func testIDXAndNpyLabels() throws {
    var images: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2]
    images += [UInt8](repeating: 7, count: 12)
    let imagePath = dir + "/train-images-idx3-ubyte"
    FileManager.default.createFile(atPath: imagePath, contents: Data(images))
    let ds = try DatasetLoader.load(.idx([imagePath]), size: 32, channels: 1, cacheDirectory: dir + "/cache")
    XCTAssertEqual(ds.count, 3)
    let idxLabels = dir + "/train-labels-idx1-ubyte"
    FileManager.default.createFile(atPath: idxLabels, contents: Data([0, 0, 8, 1, 0, 0, 0, 3, 9, 0, 4]))
    let l = try DatasetLabels.load(.idx(idxLabels), for: ds, dataSource: .idx([imagePath]))
    XCTAssertEqual(l.labels, [9, 0, 4])
    XCTAssertEqual(l.classCount, 10)
    let cases: [(String, [UInt8], String)] = [
      ("short.idx", [0, 0, 8, 1, 0, 0, 0, 2, 1, 2], "2 labels for 3 images"),
      ("claims.idx", [0, 0, 8, 1, 0, 0, 0, 9, 1, 2, 3], "truncated IDX labels file"),
      ("images.idx", images, "not an IDX labels file"),
      ("u8.npy", npy("|u1", "(3,)", [2, 1, 0]), ""),
      ("i64.npy", npy("<i8", "(3,)", [5, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0]), ""),
      ("neg.npy", npy("<i8", "(3,)", [UInt8](repeating: 0xFF, count: 8) + [UInt8](repeating: 0, count: 16)),
       "label -1 outside 0 to 9999"),
      ("twod.npy", npy("|u1", "(3, 1)", [1, 2, 3]), "expected one dimension"),
      ("f32.npy", npy("<f4", "(3,)", [UInt8](repeating: 0, count: 12)), "expected int64"),
    ]
    for (name, bytes, reason) in cases {
      let path = dir + "/" + name
      FileManager.default.createFile(atPath: path, contents: Data(bytes))
      let source: LabelSource = name.hasSuffix(".npy") ? .npy(path) : .idx(path)
      if reason.isEmpty {
        let got = try DatasetLabels.load(source, for: ds, dataSource: .idx([imagePath]))
        XCTAssertEqual(got.labels, name == "u8.npy" ? [2, 1, 0] : [5, 0, 1], name)
        XCTAssertEqual(got.classCount, name == "u8.npy" ? 3 : 6, name)
      } else {
        XCTAssertThrowsError(try DatasetLabels.load(source, for: ds, dataSource: .idx([imagePath])), name) { e in
          XCTAssertTrue("\(e)".contains(reason), "\(name): \(e)")
        }
      }
    }
  }
}
