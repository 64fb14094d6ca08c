import GanKernels

/// What both networks carve from their arena besides their own inputs and outputs: per hidden
/// layer i the convolution output pre_i and the activation act_i after BatchNorm and the
/// nonlinearity (NHWC), two gradient buffers of the largest activation that the backward pass
/// alternates between, the kernels' workspace, and the packed Winograd weights.
struct LayerBuffers {
  let pre: [UnsafeMutablePointer<Float>]
  let act: [UnsafeMutablePointer<Float>]
  let scratchA: UnsafeMutablePointer<Float>
  let scratchB: UnsafeMutablePointer<Float>
  let workspace: UnsafeMutableRawPointer
  let winogradWeights: WinogradWeights

  /// Call inside `Arena.build`. preElements, actElements: floats per hidden layer (0 where a
  /// layer has no separate pre-activation); scratchElements: the largest activation or input.
  init(arena a: Arena, preElements: [Int], actElements: [Int], scratchElements: Int, workspaceBytes: Int,
       winogradPasses: [WinogradPass], layerCount: Int) {
    pre = preElements.map { a.floats($0) }
    act = actElements.map { a.floats($0) }
    scratchA = a.floats(scratchElements)
    scratchB = a.floats(scratchElements)
    workspace = a.raw(workspaceBytes)
    winogradWeights = WinogradWeights(passes: winogradPasses, layerCount: layerCount, arena: a)
  }
}
