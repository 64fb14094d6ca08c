import Foundation
import GanModel

/// Where a dataset's class labels come from (class-conditional training).
public enum LabelSource: Equatable, Sendable {
  /// A folder source's subfolders, as torchvision's ImageFolder: class index = position in the
  /// sorted names of the root's subfolders; an image's class is the subfolder it lies in.
  case classFolders
  /// An IDX labels file (magic 0x00000801, one uint8 per image, optionally gzip-compressed), as
  /// Fashion-MNIST's train-labels-idx1-ubyte.gz beside its images.
  case idx(String)
  /// A .npy array of N labels, uint8 or int64.
  case npy(String)
}

/// One label per dataset image (in the dataset's order) and the class names.
public struct DatasetLabels: Equatable, Sendable {
  public let classNames: [String]
  public let labels: [Int32]
  public var classCount: Int { classNames.count }

  public init(classNames: [String], labels: [Int32]) {
    self.classNames = classNames
    self.labels = labels
  }

  /// The labels of `dataset` from `source`, checked: one per image, every class in range, and
  /// (for class folders) every class folder holding at least one usable image.
  public static func load(_ source: LabelSource, for dataset: Dataset, dataSource: DataSource) throws -> DatasetLabels {
    switch source {
    case .classFolders:
      guard case .folder(let root) = dataSource else {
        throw DataError("class labels from folders need a folder dataset; give labels with --labels for IDX or .npy data")
      }
      let fm = FileManager.default
      let names = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).filter { name in
        var isDir: ObjCBool = false
        return !name.hasPrefix(".") && fm.fileExists(atPath: root + "/" + name, isDirectory: &isDir) && isDir.boolValue
      }.sorted()
      guard !names.isEmpty else {
        throw DataError("\(root): no class subfolders (conditional training reads root/<class>/*.jpg)")
      }
      let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0)) })
      var labels: [Int32] = []
      labels.reserveCapacity(dataset.count)
      for (i, folder) in dataset.imageFolders.enumerated() {
        guard let k = index[folder] else {
          throw DataError("\(root): image \(i) is not inside a class subfolder (conditional training reads " +
                          "root/<class>/*.jpg)")
        }
        labels.append(k)
      }
      guard labels.count == dataset.count else {
        throw DataError("\(root): the dataset cache has no class folders; delete \(dataset.cachePath) and retry")
      }
      var seen = [Bool](repeating: false, count: names.count)
      for k in labels { seen[Int(k)] = true }
      if let empty = seen.firstIndex(of: false) {
        throw DataError("\(root)/\(names[empty]): class folder without a usable image")
      }
      return DatasetLabels(classNames: names, labels: labels)
    case .idx(let path):
      let l = try numbered(try IDX.readLabels(path: path).map { Int64($0) }, path: path, count: dataset.count)
      // Debian's Fashion-MNIST: its ten classes by name (Xiao et al. 2017).
      guard path.hasPrefix(DataSource.fashionMNISTDirectory + "/"), l.classCount == 10 else { return l }
      return DatasetLabels(classNames: DatasetLabels.fashionMNISTClassNames, labels: l.labels)
    case .npy(let path):
      let header = try NPY.readHeader(path: path)
      guard header.shape.count == 1 else {
        throw DataError("\(path): labels of shape \(header.shape); expected one dimension (N)")
      }
      let values: [Int64] = header.descr.hasSuffix("u1") ? try NPY.readUInt8(path: path).values.map { Int64($0) }
        : try NPY.readInt64(path: path).values
      return try numbered(values, path: path, count: dataset.count)
    }
  }

  public static let fashionMNISTClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                               "Shirt", "Sneaker", "Bag", "Ankle boot"]

  /// Numeric labels: classes 0...max, named by their numbers.
  static func numbered(_ values: [Int64], path: String, count: Int) throws -> DatasetLabels {
    guard values.count == count else {
      throw DataError("\(path): \(values.count) labels for \(count) images")
    }
    if let bad = values.first(where: { $0 < 0 || $0 >= 10_000 }) {
      throw DataError("\(path): label \(bad) outside 0 to 9999")
    }
    let classes = Int(values.max() ?? 0) + 1
    return DatasetLabels(classNames: (0..<classes).map(String.init), labels: values.map { Int32($0) })
  }
}

extension DataSource {
  /// Where class labels come from when none are named: a folder's class subfolders, or the IDX
  /// labels file beside IDX images (`train-images-idx3-ubyte.gz` -> `train-labels-idx1-ubyte.gz`),
  /// if it exists; nil for .npy images.
  public var defaultLabels: LabelSource? {
    switch self {
    case .folder: return .classFolders
    case .npy: return nil
    case .idx(let files):
      guard files.count == 1, let f = files.first, f.contains("images-idx3") else { return nil }
      let candidate = f.replacingOccurrences(of: "images-idx3", with: "labels-idx1")
      return FileManager.default.fileExists(atPath: candidate) ? .idx(candidate) : nil
    }
  }
}
