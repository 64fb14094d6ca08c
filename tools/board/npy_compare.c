// npy_compare A.npy B.npy MAXABS [MINPSNR]: compares two float32 .npy files of the same shape
// (the header's text must match). Prints the largest absolute difference and the PSNR over the
// [-1, 1] range (peak 2); exits 0 when max |a - b| <= MAXABS (and PSNR >= MINPSNR when given),
// 1 when not, 2 when a file cannot be read. For tools/test-board.sh.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *read_file(const char *path, long *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  *size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(*size > 0 ? (size_t)*size : 1);
  if (b && fread(b, 1, (size_t)*size, f) != (size_t)*size) { free(b); b = NULL; }
  fclose(f);
  return b;
}

// Offset of the data (format 1.0 only: what gan-gen and NumPy write for small headers).
static long data_offset(const unsigned char *b, long size) {
  if (size < 10 || b[0] != 0x93 || memcmp(b + 1, "NUMPY", 5) != 0 || b[6] != 1) return -1;
  long off = 10 + (b[8] | (b[9] << 8));
  return off <= size ? off : -1;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: npy_compare A.npy B.npy MAXABS [MINPSNR]\n"); return 2; }
  long sa, sb;
  unsigned char *a = read_file(argv[1], &sa), *b = read_file(argv[2], &sb);
  if (!a || !b) { fprintf(stderr, "npy_compare: cannot read %s\n", !a ? argv[1] : argv[2]); return 2; }
  long oa = data_offset(a, sa), ob = data_offset(b, sb);
  if (oa < 0 || ob < 0) { fprintf(stderr, "npy_compare: %s is not a .npy (format 1.0)\n", oa < 0 ? argv[1] : argv[2]); return 2; }
  if (oa != ob || memcmp(a, b, (size_t)oa) != 0 || sa != sb) {
    printf("headers differ: %.*s vs %.*s\n", (int)(oa - 10), a + 10, (int)(ob - 10), b + 10);
    return 1;
  }
  long n = (sa - oa) / 4;
  double maxabs = 0, se = 0;
  for (long i = 0; i < n; i++) {
    float x, y;
    memcpy(&x, a + oa + 4 * i, 4);
    memcpy(&y, b + ob + 4 * i, 4);
    double d = fabs((double)x - (double)y);
    if (!(d <= maxabs)) maxabs = isnan(d) ? INFINITY : d;
    se += d * d;
  }
  double psnr = se > 0 ? 10 * log10(4.0 / (se / (double)(n > 0 ? n : 1))) : INFINITY;
  printf("max |a - b| %.3g over %ld values, PSNR %.2f dB\n", maxabs, n, psnr);
  int ok = maxabs <= atof(argv[3]);
  if (argc > 4 && !(psnr >= atof(argv[4]))) ok = 0;
  return ok ? 0 : 1;
}
