// Scalar reference of gk_f32_swd: per direction, plain dot products in row order, a bottom-up
// merge sort, and the mean absolute difference of the sorted projections in double.
#include "../common/gk_internal.h"

size_t gk_f32_swd_ref_workspace_bytes(size_t rows) { return 3 * rows * sizeof(float); }

static void merge_sort(float *x, float *tmp, size_t n) {
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
      size_t i = lo, j = mid, o = lo;
      while (i < mid && j < hi) tmp[o++] = x[j] < x[i] ? x[j++] : x[i++];
      while (i < mid) tmp[o++] = x[i++];
      while (j < hi) tmp[o++] = x[j++];
    }
    memcpy(x, tmp, n * sizeof *x);
  }
}

void gk_f32_swd_ref(const float *a, const float *b, size_t rows, size_t dim, const float *dirs, int ndir,
                    double *terms, void *workspace) {
  float *pa = workspace, *pb = pa + rows, *tmp = pb + rows;
  for (int d = 0; d < ndir; d++) {
    const float *v = dirs + (size_t)d * dim;
    for (size_t r = 0; r < rows; r++) {
      float sa = 0, sb = 0;
      for (size_t k = 0; k < dim; k++) { sa += a[r * dim + k] * v[k]; sb += b[r * dim + k] * v[k]; }
      pa[r] = sa; pb[r] = sb;
    }
    merge_sort(pa, tmp, rows);
    merge_sort(pb, tmp, rows);
    double s = 0;
    for (size_t r = 0; r < rows; r++) s += fabsf(pa[r] - pb[r]);
    terms[d] = s / (double)rows;
  }
}
