// node-tpm2 native layer: one ESYS context per JS object, one AsyncWorker per TPM command.
// Structures cross the boundary as marshaled TPM byte strings (Buffers); TypeScript builds
// and parses them, so this layer only (un)marshals with tss2-mu and calls Esys_*.
#pragma once
#include <napi.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace nodetpm2 {

using Bytes = std::vector<uint8_t>;

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Context(const Napi::CallbackInfo& info);
  ~Context() override;

  ESYS_CONTEXT* esys = nullptr;
  TSS2_TCTI_CONTEXT* tcti = nullptr;
  // ESYS contexts are not thread-safe; the JS side queues calls, this is the backstop.
  std::mutex lock;

  void CloseNow();
};

// Runs `exec` on the libuv pool (retrying TPM_RC_RETRY / YIELDED / TESTING), then settles a
// Promise with `done()` on the JS thread, or rejects with an Error carrying rc/command.
class TpmWorker : public Napi::AsyncWorker {
 public:
  using Exec = std::function<TSS2_RC()>;
  using Done = std::function<Napi::Value(Napi::Env)>;
  TpmWorker(Napi::Env env, Context* ctx, std::string command, Exec exec, Done done);
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& e) override;

 private:
  Napi::Promise::Deferred deferred_;
  Context* ctx_;
  Napi::ObjectReference keep_;  // keeps the Context alive while the command runs
  std::string command_;
  Exec exec_;
  Done done_;
  TSS2_RC rc_ = 0;
  bool needsEsys_;
};

Napi::Value Queue(const Napi::CallbackInfo& info, const char* command, TpmWorker::Exec exec,
                  TpmWorker::Done done);

// Helpers for arguments: Buffers are unmarshaled strictly (the whole buffer must be consumed).
template <typename T>
using UnmarshalFn = TSS2_RC (*)(const uint8_t[], size_t, size_t*, T*);
template <typename T>
using MarshalFn = TSS2_RC (*)(const T*, uint8_t[], size_t, size_t*);

template <typename T>
T Unmarshal(const Napi::Value& v, UnmarshalFn<T> fn, const char* what) {
  if (!v.IsBuffer()) throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected a Buffer");
  auto b = v.As<Napi::Buffer<uint8_t>>();
  T out{};
  size_t off = 0;
  TSS2_RC rc = fn(b.Data(), b.Length(), &off, &out);
  if (rc != TSS2_RC_SUCCESS || off != b.Length()) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + ": malformed TPM structure");
  }
  return out;
}

template <typename T>
Bytes Marshal(const T* v, MarshalFn<T> fn) {
  if (v == nullptr) return Bytes();
  Bytes buf(sizeof(T) + 64);
  size_t off = 0;
  if (fn(v, buf.data(), buf.size(), &off) != TSS2_RC_SUCCESS) return Bytes();
  buf.resize(off);
  return buf;
}

uint32_t U32(const Napi::CallbackInfo& info, size_t i, const char* what);
Bytes Raw(const Napi::CallbackInfo& info, size_t i, const char* what);
Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const Bytes& b);

// Commands are module functions taking the Context as their first argument.
void DefineCommands(Napi::Env env, Napi::Object exports);

}  // namespace nodetpm2
