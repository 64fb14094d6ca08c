// Step sequences: many kernel calls (GEMMs and narrow deconvolutions) in one parallel region with
// a barrier between steps, for batch-1 inference where a fork/join per GEMM costs as much as the
// GEMM; a deconvolution's four independent phases may run one per thread.
#include "gemm_internal.h"

static size_t solo_slice_bytes(size_t m, size_t n, size_t k) {
  return round_up(gk_f32_gemm_workspace_bytes(m, n, k, 1), 64);
}

size_t gk_seq_workspace_bytes(size_t m, size_t n, size_t k, int threads) {
  if (threads < 1) threads = 1;
  size_t coop = gk_f32_gemm_workspace_bytes(m, n, k, threads);
  size_t solo = (size_t)threads * solo_slice_bytes(m, n, k) + 64;
  return coop > solo ? coop : solo;
}

static void seq_thread(gk_seq_step *steps, int count, void *workspace, int threads, int tid,
                       int nth) {
  for (int s = 0; s < count; s++) {
    gk_seq_step *st = &steps[s];
    // A group of independent same-shape GEMMs that the threads can split whole.
    int glen = 0;
    if (st->kind == GK_STEP_GEMM && st->group != 0) {
      // Same group, input and output: the phases of one layer (consecutive layers differ in both).
      while (s + glen < count && steps[s + glen].kind == GK_STEP_GEMM && steps[s + glen].group == st->group &&
             steps[s + glen].a.data == st->a.data && steps[s + glen].c.data == st->c.data)
        glen++;
    }
    if (glen > 1 && nth > 1 && glen % nth == 0) {
      const gk_gemm_variant *v = gk_config()->gemm;
      size_t slice = solo_slice_bytes(st->m, st->n, st->k);
      char *mine = (char *)(((uintptr_t)workspace + 63) & ~(uintptr_t)63) + (size_t)tid * slice;
      for (int j = tid; j < glen; j += nth) {
        gk_seq_step *g = &steps[s + j];
        gemm_call call;
        if (!gk_gemm_prepare(&call, v, g->m, g->n, g->k, &g->a, &g->b, &g->c, &g->ep, mine, 1)) {
          gk_f32_gemm_ref(g->m, g->n, g->k, &g->a, &g->b, &g->c, &g->ep);
        } else {
          gk_gemm_zero_if_empty_k(&call);
          gk_gemm_thread(&call, 0, 1);
        }
      }
      s += glen - 1;
      gk_barrier(nth);
      continue;
    }
    if (st->kind == GK_STEP_GEMM) {
      if (st->m == 0 || st->n == 0) continue;
      gemm_call g;
      const gk_gemm_variant *v = gk_config()->gemm;
      // Every thread prepares the same plan from the same inputs (no shared state to publish).
      if (!gk_gemm_prepare(&g, v, st->m, st->n, st->k, &st->a, &st->b, &st->c, &st->ep, workspace,
                        threads)) {
        if (tid == 0) gk_f32_gemm_ref(st->m, st->n, st->k, &st->a, &st->b, &st->c, &st->ep);
      } else {
        if (tid == 0) gk_gemm_zero_if_empty_k(&g);
        if (g.k == 0) gk_barrier(nth);
        gk_gemm_thread(&g, tid, nth);
      }
    } else {
      gk_f32_deconv4s2_narrow_rows(&st->narrow, tid, nth);
    }
    // The next step reads this one's output and reuses the workspace.
    gk_barrier(nth);
  }
}

typedef struct seq_call {
  gk_seq_step *steps;
  int count;
  void *workspace;
  int threads;
} seq_call;

static void seq_body(void *ctx, int tid, int nth) {
  seq_call *c = (seq_call *)ctx;
  seq_thread(c->steps, c->count, c->workspace, c->threads, tid, nth);
}

void gk_seq_run_steps(gk_seq_step *steps, int count, void *workspace, int threads) {
  seq_call c = {steps, count, workspace, threads < 1 ? 1 : threads};
  gk_run_parallel(c.threads, seq_body, &c);
}

