/* A yardstick, not part of tcomodel: what a compiled kernel could cost per elementwise result, for issue 14's
 * every-line-item target. The engine's + rule (LibreOffice's approximate-equality zeroing, -0.0 made +0.0,
 * non-finite made NaN) and x rule (non-finite made NaN) over a block of [1,024 samples x 20 quarters]:
 * once as one fused dependency chain per element, once as one pass per operation (numpy's shape, without its
 * temporaries and its separate screening passes). numpy takes ~2.2 ns per result on the same machine
 * (benchmarks/README.md, fifth round).
 *
 *     gcc -O2 -ffp-contract=off -o /tmp/yardstick benchmarks/compiled_yardstick.c -lm && /tmp/yardstick
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define E48 (1.0 / 281474976710656.0) /* 2^-48 */

static inline double clean(double x) { return isfinite(x) ? x : NAN; }
static inline int approx_eq(double a, double b) { return a == b || fabs(a - b) < fmin(fabs(a), fabs(b)) * E48; }
static inline double add(double a, double b) {
    double r = a + b;
    if (fabs(r) < fabs(a) * E48 && approx_eq(a, -b)) return 0.0;
    return clean(r + 0.0);
}
static inline double mul(double a, double b) { return clean(a * b); }

static double seconds(struct timespec t0, struct timespec t1) {
    return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
}

int main(void) {
    const int n = 1024 * 20, ops = 40;
    double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double)), *z = malloc(n * sizeof(double));
    double *A = malloc(n * sizeof(double)), *B = malloc(n * sizeof(double));
    for (int i = 0; i < n; i++) { x[i] = 1.0 + i * 1e-6; y[i] = 2.0 - i * 1e-7; }
    struct timespec t0, t1;
    double fused = 1e9, passes = 1e9, check = 0;
    for (int rep = 0; rep < 20; rep++) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < n; i++) {
            double a = x[i], b = y[i];
            for (int k = 0; k < ops; k += 2) { a = add(a, b); b = mul(a, 0.999); }
            z[i] = a + b;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (seconds(t0, t1) < fused) fused = seconds(t0, t1);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < n; i++) { A[i] = x[i]; B[i] = y[i]; }
        for (int k = 0; k < ops; k += 2) {
            for (int i = 0; i < n; i++) A[i] = add(A[i], B[i]);
            for (int i = 0; i < n; i++) B[i] = mul(A[i], 0.999);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (seconds(t0, t1) < passes) passes = seconds(t0, t1);
    }
    for (int i = 0; i < n; i++) check += z[i] - (A[i] + B[i]);  /* both orders give the same values: 0 */
    printf("fused chain per element: %.3f ns per result\n", fused / ((double)n * ops) * 1e9);
    printf("one pass per operation:  %.3f ns per result\n", passes / ((double)n * ops) * 1e9);
    printf("difference between the two (must be 0): %g\n", check);
    return check != 0.0;
}
