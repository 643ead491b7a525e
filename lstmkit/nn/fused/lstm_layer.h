// lstmkit's fused LSTM layer for small CPU problems (see lstmkit/nn/fused/__init__.py).
// Header-only, so a job's own kernel (lstmkit/forecast/fused_step.cpp) can build on it.
//
// The equations are those of lstmkit/ref/lstm.py, gate blocks i | f | g | o (torch's layout):
//   z_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh            (B, 4H)
//   i = σ(z_i)  f = σ(z_f)  g = tanh(z_g)  o = σ(z_o)
//   C_t = f * C_{t-1} + i * g        h_t = o * tanh(C_t)
// and, backward from t = T to 1 (dh, dC flowing in from step t+1 and from above):
//   dC += dh * o * (1 - tanh²C_t)
//   dz_i = dC g i(1-i)   dz_f = dC C_{t-1} f(1-f)   dz_g = dC i (1-g²)   dz_o = dh tanh(C_t) o(1-o)
//   dC_{t-1} = dC * f    dh_{t-1} = dz W_hh (+ dh from above)
//   dW_ih += dz^T x_t    dW_hh += dz^T h_{t-1}    db += dz
// Matrix products go to ATen (MKL); the per-step gate math is a plain loop the compiler
// vectorises (-O3 -ffast-math: glibc's vector expf/tanhf). One call runs a whole sequence,
// or a whole training step, so nothing is dispatched per time step from Python.
#pragma once
#include <torch/extension.h>

#include <cmath>
#include <vector>

namespace lstmkit_fused {

// Saturating activations. -ffast-math lets the compiler assume no inf or NaN and use
// approximate reciprocals and vector exp/tanh: exp(-x) overflowing to inf for x < -88
// (float) made 1 / (1 + inf) NaN on unscaled inputs, and saturated values came out one ulp
// off 1. Now a gate saturates exactly, as torch's does: past the point where the exact value
// rounds to 0, 1 or ±1 in the type (σ: x < -88 / -708 for float / double, where exp(-x)
// would overflow, and x > 17.33 / 37.43; tanh: |x| > 9.011 / 18.99) the result is that value.
// Between those bounds nothing changes, bit for bit.
template <typename T>
inline T sigm(T x) {
  const bool f32 = sizeof(T) == 4;
  const T lo = f32 ? T(88) : T(708), hi = f32 ? T(17.33) : T(37.43);
  const T s = T(1) / (T(1) + std::exp(-(x < -lo ? -lo : x)));
  return x < -lo ? T(0) : (x > hi ? T(1) : s);
}

template <typename T>
inline T tanh_s(T x) {
  const T lim = sizeof(T) == 4 ? T(9.011) : T(18.99);
  const T t = std::tanh(x < -lim ? -lim : (x > lim ? lim : x));
  return x > lim ? T(1) : (x < -lim ? T(-1) : t);
}

// Forward of one layer. x (T, B, F) time-major; h0, c0 (B, H).
// Returns G (T, B, 4H) activated gates, C (T+1, B, H) = C_0..C_T, Hs (T+1, B, H) = h_0..h_T.
inline std::vector<at::Tensor> lstm_forward(const at::Tensor& x, const at::Tensor& h0,
                                     const at::Tensor& c0, const at::Tensor& w_ih,
                                     const at::Tensor& w_hh, const at::Tensor& b_ih,
                                     const at::Tensor& b_hh) {
  const int64_t T = x.size(0), B = x.size(1), F = x.size(2), H = w_hh.size(1);
  auto G = at::addmm(b_ih + b_hh, x.reshape({T * B, F}), w_ih.t()).view({T, B, 4 * H});
  auto C = at::empty({T + 1, B, H}, x.options());
  auto Hs = at::empty({T + 1, B, H}, x.options());
  C[0].copy_(c0);
  Hs[0].copy_(h0);
  const auto whT = w_hh.t();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lstm_forward", [&] {
    for (int64_t t = 0; t < T; ++t) {
      auto g = G[t];
      g.addmm_(Hs[t], whT);  // z_t   (B, 4H)
      scalar_t* z = g.data_ptr<scalar_t>();
      const scalar_t* cp = C[t].data_ptr<scalar_t>();
      scalar_t* cn = C[t + 1].data_ptr<scalar_t>();
      scalar_t* hn = Hs[t + 1].data_ptr<scalar_t>();
      for (int64_t r = 0; r < B; ++r) {
        scalar_t* zi = z + r * 4 * H;
        scalar_t* zf = zi + H;
        scalar_t* zg = zi + 2 * H;
        scalar_t* zo = zi + 3 * H;
        const scalar_t* c_prev = cp + r * H;
        scalar_t* c = cn + r * H;
        scalar_t* h = hn + r * H;
        _Pragma("omp simd")
        for (int64_t k = 0; k < H; ++k) {
          const scalar_t i = sigm(zi[k]), f = sigm(zf[k]), gg = tanh_s(zg[k]);
          const scalar_t o = sigm(zo[k]);
          zi[k] = i; zf[k] = f; zg[k] = gg; zo[k] = o;
          const scalar_t cc = f * c_prev[k] + i * gg;  // C_t
          c[k] = cc;
          h[k] = o * tanh_s(cc);  // h_t
        }
      }
    }
  });
  return {G, C, Hs};
}

// Backward of one layer (BPTT). dHs (T, B, H) gradient of h_1..h_T, may be undefined;
// dhT, dcT (B, H). Returns dx (T, B, F) (undefined unless need_dx), dh0, dc0, dw_ih, dw_hh,
// db (the gradient of b_ih and of b_hh alike).
inline std::vector<at::Tensor> lstm_backward(const at::Tensor& x, const at::Tensor& w_ih,
                                      const at::Tensor& w_hh, const at::Tensor& G,
                                      const at::Tensor& C, const at::Tensor& Hs,
                                      const c10::optional<at::Tensor>& dHs_opt,
                                      const at::Tensor& dhT, const at::Tensor& dcT,
                                      bool need_dx) {
  const int64_t T = x.size(0), B = x.size(1), F = x.size(2), H = w_hh.size(1);
  const bool has_dHs = dHs_opt.has_value() && dHs_opt->defined();
  auto dZ = at::empty({T, B, 4 * H}, x.options());
  auto dh = dhT.clone();
  auto dc = dcT.clone();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lstm_backward", [&] {
    for (int64_t t = T - 1; t >= 0; --t) {
      if (has_dHs) dh.add_((*dHs_opt)[t]);
      const scalar_t* a = G[t].data_ptr<scalar_t>();
      const scalar_t* cp = C[t].data_ptr<scalar_t>();
      const scalar_t* cn = C[t + 1].data_ptr<scalar_t>();
      const scalar_t* dhp = dh.data_ptr<scalar_t>();
      scalar_t* dcp = dc.data_ptr<scalar_t>();
      scalar_t* dz = dZ[t].data_ptr<scalar_t>();
      for (int64_t r = 0; r < B; ++r) {
        const scalar_t* ai = a + r * 4 * H;
        const scalar_t* af = ai + H;
        const scalar_t* ag = ai + 2 * H;
        const scalar_t* ao = ai + 3 * H;
        const scalar_t* c_prev = cp + r * H;
        const scalar_t* c = cn + r * H;
        const scalar_t* dhr = dhp + r * H;
        scalar_t* dcr = dcp + r * H;
        scalar_t* di = dz + r * 4 * H;
        scalar_t* df = di + H;
        scalar_t* dg = di + 2 * H;
        scalar_t* dO = di + 3 * H;
        _Pragma("omp simd")
        for (int64_t k = 0; k < H; ++k) {
          const scalar_t i = ai[k], f = af[k], g = ag[k], o = ao[k];
          const scalar_t tc = tanh_s(c[k]);
          const scalar_t dC = dcr[k] + dhr[k] * o * (scalar_t(1) - tc * tc);
          dO[k] = dhr[k] * tc * o * (scalar_t(1) - o);
          di[k] = dC * g * i * (scalar_t(1) - i);
          df[k] = dC * c_prev[k] * f * (scalar_t(1) - f);
          dg[k] = dC * i * (scalar_t(1) - g * g);
          dcr[k] = dC * f;  // dC_{t-1}
        }
      }
      dh = at::mm(dZ[t], w_hh);  // dh_{t-1}   (B, H)
    }
  });
  const auto dZf = dZ.view({T * B, 4 * H});
  auto dw_hh = at::mm(dZf.t(), Hs.narrow(0, 0, T).reshape({T * B, H}));
  auto dw_ih = at::mm(dZf.t(), x.reshape({T * B, F}));
  auto db = dZf.sum(0);
  at::Tensor dx;
  if (need_dx) dx = at::mm(dZf, w_ih).view({T, B, F});
  return {dx, dh, dc, dw_ih, dw_hh, db};
}

}  // namespace lstmkit_fused
