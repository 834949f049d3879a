#include <chrono>
#include <thread>

#include "tpm_context.h"

namespace nodetpm2 {

namespace {
// TPM 2.0 Part 2, 6.6.3: format-zero warnings that mean "send the same command again".
bool Retryable(TSS2_RC rc) {
  if ((rc & TSS2_RC_LAYER_MASK) != 0) return false;  // TPM layer only
  const TSS2_RC base = rc & 0xFFFF;
  return base == TPM2_RC_RETRY || base == TPM2_RC_YIELDED || base == TPM2_RC_TESTING;
}
constexpr int kMaxAttempts = 20;
}  // namespace

Context::Context(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Context>(info) {}
Context::~Context() { CloseNow(); }

void Context::CloseNow() {
  std::lock_guard<std::mutex> guard(lock);
  if (esys != nullptr) Esys_Finalize(&esys);
  if (tcti != nullptr) Tss2_TctiLdr_Finalize(&tcti);
  esys = nullptr;
  tcti = nullptr;
}

TpmWorker::TpmWorker(Napi::Env env, Context* ctx, std::string command, Exec exec, Done done)
    : Napi::AsyncWorker(env, "node-tpm2"),
      deferred_(Napi::Promise::Deferred::New(env)),
      ctx_(ctx),
      keep_(Napi::Persistent(ctx->Value())),
      command_(std::move(command)),
      exec_(std::move(exec)),
      done_(std::move(done)),
      needsEsys_(command_ != "open") {}

void TpmWorker::Execute() {
  std::lock_guard<std::mutex> guard(ctx_->lock);
  if (needsEsys_ && ctx_->esys == nullptr) {
    SetError("TPM context is not open");
    return;
  }
  for (int attempt = 1;; ++attempt) {
    rc_ = exec_();
    if (!Retryable(rc_) || attempt >= kMaxAttempts) break;
    // Off the event loop: a short, growing pause before resending the same command.
    std::this_thread::sleep_for(std::chrono::milliseconds(5 * attempt));
  }
}

void TpmWorker::OnOK() {
  Napi::Env env = Env();
  if (rc_ != TSS2_RC_SUCCESS) {
    const char* decoded = Tss2_RC_Decode(rc_);
    Napi::Error err = Napi::Error::New(env, command_ + " failed: " + (decoded ? decoded : "?"));
    err.Set("rc", Napi::Number::New(env, rc_));
    err.Set("command", Napi::String::New(env, command_));
    deferred_.Reject(err.Value());
    return;
  }
  try {
    deferred_.Resolve(done_ ? done_(env) : env.Undefined());
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  }
}

void TpmWorker::OnError(const Napi::Error& e) {
  Napi::Error err = Napi::Error::New(Env(), command_ + ": " + e.Message());
  err.Set("command", Napi::String::New(Env(), command_));
  deferred_.Reject(err.Value());
}

Napi::Value Queue(const Napi::CallbackInfo& info, const char* command, TpmWorker::Exec exec,
                  TpmWorker::Done done) {
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(info.Env(), std::string(command) + ": expected a Context");
  }
  Context* ctx = Napi::ObjectWrap<Context>::Unwrap(info[0].As<Napi::Object>());
  auto* w = new TpmWorker(info.Env(), ctx, command, std::move(exec), std::move(done));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

uint32_t U32(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected a number");
  }
  return info[i].As<Napi::Number>().Uint32Value();
}

Bytes Raw(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsBuffer()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected a Buffer");
  }
  auto b = info[i].As<Napi::Buffer<uint8_t>>();
  return Bytes(b.Data(), b.Data() + b.Length());
}

Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const Bytes& b) {
  return Napi::Buffer<uint8_t>::Copy(env, b.data(), b.size());
}

Napi::Function Context::Define(Napi::Env env) {
  return DefineClass(env, "Context", {});
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Context", Context::Define(env));
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  DefineCommands(env, exports);
  return exports;
}

NODE_API_MODULE(node_tpm2, Init)

}  // namespace nodetpm2
