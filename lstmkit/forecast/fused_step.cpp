// The LSTM forecaster's whole training step in one call (see lstmkit/forecast/fused_step.py):
// mini-batch gather, the LSTM layer of lstmkit/nn/fused/lstm_layer.h, the linear head, the
// loss, BPTT, optional global-norm clipping and torch.optim.Adam's update, in place.
#include "lstm_layer.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace {

using lstmkit_fused::lstm_backward;
using lstmkit_fused::lstm_forward;

// Gradients of the forecaster's loss on one mini-batch, for
//   y_hat = head(h_T) (+ last, repeated over the K steps, when residual),
// params = [weight_ih, weight_hh, bias_ih, bias_hh, head.weight, head.bias];
// xb (B, L, F), lastb (B, D), yb (B, K·D); loss 0 = mse, 1 = mae (l1), 2 = huber (delta 1),
// each a mean over the B·K·D elements. Returns [loss, grads...].
std::vector<at::Tensor> regressor_grads(const at::Tensor& xb, const at::Tensor& lastb,
                                        const at::Tensor& yb, const std::vector<at::Tensor>& p,
                                        int64_t loss_kind, bool residual) {
  const int64_t B = xb.size(0), H = p[1].size(1), KD = p[4].size(0), D = lastb.size(1);
  const auto x = xb.transpose(0, 1).contiguous();  // (L, B, F)
  const auto zeros = at::zeros({B, H}, xb.options());
  auto fw = lstm_forward(x, zeros, zeros, p[0], p[1], p[2], p[3]);
  const auto hT = fw[2][x.size(0)];  // (B, H)
  auto out = at::addmm(p[5], hT, p[4].t());  // (B, K·D)
  if (residual) out.view({B, KD / D, D}).add_(lastb.unsqueeze(1));
  const auto diff = out - yb;
  const double n = static_cast<double>(diff.numel());
  at::Tensor loss, dout;
  if (loss_kind == 0) {
    loss = diff.pow(2).sum() / n;
    dout = diff * (2.0 / n);
  } else if (loss_kind == 1) {
    loss = diff.abs().sum() / n;
    dout = diff.sign() / n;
  } else {
    const auto a = diff.abs();
    loss = at::where(a < 1.0, 0.5 * diff * diff, a - 0.5).sum() / n;
    dout = diff.clamp(-1.0, 1.0) / n;
  }
  auto dw_head = at::mm(dout.t(), hT);  // (K·D, H)
  auto db_head = dout.sum(0);
  auto dhT = at::mm(dout, p[4]);  // (B, H)
  auto bw = lstm_backward(x, p[0], p[1], fw[0], fw[1], fw[2], c10::nullopt, dhT, zeros, false);
  return {loss, bw[3], bw[4], bw[5], bw[5], dw_head, db_head};
}

// One training step: gradients as above, optional global-norm clipping (clip <= 0: none),
// then Adam (torch.optim.Adam's update, no weight decay) on the parameters in place.
// m, v: Adam's moment estimates (like the params); step: the step number after this one.
// Returns {loss, grad_norm} (grad_norm NaN when not clipping).
std::vector<double> regressor_step(const at::Tensor& X, const at::Tensor& last,
                                   const at::Tensor& Y, const at::Tensor& idx,
                                   std::vector<at::Tensor> p, std::vector<at::Tensor> m,
                                   std::vector<at::Tensor> v, int64_t step, double lr,
                                   double beta1, double beta2, double eps, int64_t loss_kind,
                                   bool residual, double clip) {
  at::NoGradGuard no_grad;
  const auto xb = X.index_select(0, idx);
  const auto lastb = last.index_select(0, idx);
  const auto yb = Y.index_select(0, idx).reshape({idx.size(0), -1});
  auto out = regressor_grads(xb, lastb, yb, p, loss_kind, residual);
  const double loss = out[0].item<double>();
  double norm = std::nan(""), scale = 1.0;  // the norm is only needed for clipping
  if (clip > 0) {
    double sq = 0.0;
    for (size_t k = 1; k < out.size(); ++k) sq += out[k].pow(2).sum().item<double>();
    norm = std::sqrt(sq);
    scale = std::min(1.0, clip / (norm + 1e-6));
  }
  const double bc1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double bc2 = 1.0 - std::pow(beta2, static_cast<double>(step));
  const double step_size = lr / bc1, bc2_sqrt = std::sqrt(bc2);
  AT_DISPATCH_FLOATING_TYPES(X.scalar_type(), "adam", [&] {
    for (size_t k = 0; k < p.size(); ++k) {
      scalar_t* w = p[k].data_ptr<scalar_t>();
      scalar_t* mk = m[k].data_ptr<scalar_t>();
      scalar_t* vk = v[k].data_ptr<scalar_t>();
      const auto g_t = out[k + 1].contiguous();
      const scalar_t* g = g_t.data_ptr<scalar_t>();
      const int64_t n = p[k].numel();
      const scalar_t s = scale, b1 = beta1, b2 = beta2, ss = step_size, bs = bc2_sqrt;
      const scalar_t e = eps;
      _Pragma("omp simd")
      for (int64_t j = 0; j < n; ++j) {
        const scalar_t gj = g[j] * s;
        mk[j] = b1 * mk[j] + (scalar_t(1) - b1) * gj;
        vk[j] = b2 * vk[j] + (scalar_t(1) - b2) * gj * gj;
        w[j] -= ss * mk[j] / (std::sqrt(vk[j]) / bs + e);
      }
    }
  });
  return {loss, norm};
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("regressor_grads", &regressor_grads, "loss and gradients of LSTM -> Linear");
  m.def("regressor_step", &regressor_step, "one Adam step of LSTM -> Linear");
}
