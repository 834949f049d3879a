// One function per ESYS command. Each parses its arguments on the JS thread, runs Esys_* on
// the pool, copies outputs into marshaled byte strings and frees the ESYS allocations there.
#include "tpm_context.h"

namespace nodetpm2 {
namespace {

using Info = const Napi::CallbackInfo&;
using Out = std::shared_ptr<std::vector<Bytes>>;

Context* Ctx(Info info) { return Napi::ObjectWrap<Context>::Unwrap(info[0].As<Napi::Object>()); }
Out NewOut(size_t n) { return std::make_shared<std::vector<Bytes>>(n); }
template <typename T>
void Take(T*& p, Bytes& dst, MarshalFn<T> fn) {
  dst = Marshal(p, fn);
  Esys_Free(p);
  p = nullptr;
}
Napi::Value Void(Napi::Env env) { return env.Undefined(); }

Napi::Value Open(Info info) {
  Context* c = Ctx(info);
  if (info.Length() < 2 || !info[1].IsString()) throw Napi::TypeError::New(info.Env(), "tcti");
  std::string conf = info[1].As<Napi::String>();
  return Queue(info, "open", [c, conf]() {
    if (c->esys != nullptr) return TSS2_RC(TSS2_RC_SUCCESS);
    TSS2_RC rc = Tss2_TctiLdr_Initialize(conf.empty() ? nullptr : conf.c_str(), &c->tcti);
    if (rc != TSS2_RC_SUCCESS) return rc;
    rc = Esys_Initialize(&c->esys, c->tcti, nullptr);
    if (rc != TSS2_RC_SUCCESS) {
      Tss2_TctiLdr_Finalize(&c->tcti);
      c->tcti = nullptr;
      c->esys = nullptr;
    }
    return rc;
  }, Void);
}

Napi::Value Close(Info info) {
  Ctx(info)->CloseNow();
  return info.Env().Undefined();
}

Napi::Value Startup(Info info) {
  Context* c = Ctx(info);
  uint32_t su = U32(info, 1, "startupType");
  return Queue(info, "Startup", [c, su]() { return Esys_Startup(c->esys, TPM2_SU(su)); }, Void);
}

Napi::Value Shutdown(Info info) {
  Context* c = Ctx(info);
  uint32_t su = U32(info, 1, "shutdownType");
  return Queue(info, "Shutdown", [c, su]() {
    return Esys_Shutdown(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_SU(su));
  }, Void);
}

Napi::Value GetRandom(Info info) {
  Context* c = Ctx(info);
  uint16_t n = uint16_t(U32(info, 1, "bytesRequested"));
  auto out = NewOut(1);
  return Queue(info, "GetRandom", [c, n, out]() {
    TPM2B_DIGEST* r = nullptr;
    TSS2_RC rc = Esys_GetRandom(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, n, &r);
    if (rc == TSS2_RC_SUCCESS) (*out)[0].assign(r->buffer, r->buffer + r->size);
    Esys_Free(r);
    return rc;
  }, [out](Napi::Env env) -> Napi::Value { return ToBuffer(env, (*out)[0]); });
}

Napi::Value GetCapability(Info info) {
  Context* c = Ctx(info);
  uint32_t cap = U32(info, 1, "capability"), prop = U32(info, 2, "property");
  uint32_t count = U32(info, 3, "propertyCount");
  auto out = NewOut(1);
  auto more = std::make_shared<TPMI_YES_NO>(0);
  return Queue(info, "GetCapability", [c, cap, prop, count, out, more]() {
    TPMS_CAPABILITY_DATA* d = nullptr;
    TSS2_RC rc = Esys_GetCapability(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, cap, prop,
                                    count, more.get(), &d);
    Take(d, (*out)[0], Tss2_MU_TPMS_CAPABILITY_DATA_Marshal);
    return rc;
  }, [out, more](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("moreData", Napi::Boolean::New(env, *more != 0));
    o.Set("data", ToBuffer(env, (*out)[0]));
    return o;
  });
}

Napi::Value PcrRead(Info info) {
  Context* c = Ctx(info);
  auto sel = Unmarshal(info[1], Tss2_MU_TPML_PCR_SELECTION_Unmarshal, "pcrSelectionIn");
  auto out = NewOut(2);
  auto counter = std::make_shared<uint32_t>(0);
  return Queue(info, "PCR_Read", [c, sel, out, counter]() {
    TPML_PCR_SELECTION* s = nullptr;
    TPML_DIGEST* d = nullptr;
    TSS2_RC rc = Esys_PCR_Read(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel,
                               counter.get(), &s, &d);
    Take(s, (*out)[0], Tss2_MU_TPML_PCR_SELECTION_Marshal);
    Take(d, (*out)[1], Tss2_MU_TPML_DIGEST_Marshal);
    return rc;
  }, [out, counter](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("updateCounter", Napi::Number::New(env, *counter));
    o.Set("selection", ToBuffer(env, (*out)[0]));
    o.Set("digests", ToBuffer(env, (*out)[1]));
    return o;
  });
}

Napi::Value PcrExtend(Info info) {
  Context* c = Ctx(info);
  ESYS_TR pcr = U32(info, 1, "pcrHandle"), s1 = U32(info, 2, "session1");
  auto d = Unmarshal(info[3], Tss2_MU_TPML_DIGEST_VALUES_Unmarshal, "digests");
  return Queue(info, "PCR_Extend", [c, pcr, s1, d]() {
    return Esys_PCR_Extend(c->esys, pcr, s1, ESYS_TR_NONE, ESYS_TR_NONE, &d);
  }, Void);
}

Napi::Value PcrReset(Info info) {
  Context* c = Ctx(info);
  ESYS_TR pcr = U32(info, 1, "pcrHandle"), s1 = U32(info, 2, "session1");
  return Queue(info, "PCR_Reset", [c, pcr, s1]() {
    return Esys_PCR_Reset(c->esys, pcr, s1, ESYS_TR_NONE, ESYS_TR_NONE);
  }, Void);
}

Napi::Value CreatePrimary(Info info) {
  Context* c = Ctx(info);
  ESYS_TR hier = U32(info, 1, "primaryHandle"), s1 = U32(info, 2, "session1");
  auto sens = Unmarshal(info[3], Tss2_MU_TPM2B_SENSITIVE_CREATE_Unmarshal, "inSensitive");
  auto pub = Unmarshal(info[4], Tss2_MU_TPM2B_PUBLIC_Unmarshal, "inPublic");
  auto out = NewOut(1);
  auto handle = std::make_shared<ESYS_TR>(ESYS_TR_NONE);
  return Queue(info, "CreatePrimary", [c, hier, s1, sens, pub, out, handle]() {
    TPM2B_DATA outside{};
    TPML_PCR_SELECTION creationPcr{};
    TPM2B_PUBLIC* p = nullptr;
    TPM2B_CREATION_DATA* cd = nullptr;
    TPM2B_DIGEST* ch = nullptr;
    TPMT_TK_CREATION* tk = nullptr;
    TSS2_RC rc = Esys_CreatePrimary(c->esys, hier, s1, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &pub,
                                    &outside, &creationPcr, handle.get(), &p, &cd, &ch, &tk);
    Take(p, (*out)[0], Tss2_MU_TPM2B_PUBLIC_Marshal);
    Esys_Free(cd);
    Esys_Free(ch);
    Esys_Free(tk);
    return rc;
  }, [out, handle](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("handle", Napi::Number::New(env, *handle));
    o.Set("outPublic", ToBuffer(env, (*out)[0]));
    return o;
  });
}

Napi::Value Create(Info info) {
  Context* c = Ctx(info);
  ESYS_TR parent = U32(info, 1, "parentHandle"), s1 = U32(info, 2, "session1");
  auto sens = Unmarshal(info[3], Tss2_MU_TPM2B_SENSITIVE_CREATE_Unmarshal, "inSensitive");
  auto pub = Unmarshal(info[4], Tss2_MU_TPM2B_PUBLIC_Unmarshal, "inPublic");
  auto out = NewOut(2);
  return Queue(info, "Create", [c, parent, s1, sens, pub, out]() {
    TPM2B_DATA outside{};
    TPML_PCR_SELECTION creationPcr{};
    TPM2B_PRIVATE* priv = nullptr;
    TPM2B_PUBLIC* p = nullptr;
    TPM2B_CREATION_DATA* cd = nullptr;
    TPM2B_DIGEST* ch = nullptr;
    TPMT_TK_CREATION* tk = nullptr;
    TSS2_RC rc = Esys_Create(c->esys, parent, s1, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &pub,
                             &outside, &creationPcr, &priv, &p, &cd, &ch, &tk);
    Take(priv, (*out)[0], Tss2_MU_TPM2B_PRIVATE_Marshal);
    Take(p, (*out)[1], Tss2_MU_TPM2B_PUBLIC_Marshal);
    Esys_Free(cd);
    Esys_Free(ch);
    Esys_Free(tk);
    return rc;
  }, [out](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("outPrivate", ToBuffer(env, (*out)[0]));
    o.Set("outPublic", ToBuffer(env, (*out)[1]));
    return o;
  });
}

Napi::Value Load(Info info) {
  Context* c = Ctx(info);
  ESYS_TR parent = U32(info, 1, "parentHandle"), s1 = U32(info, 2, "session1");
  auto priv = Unmarshal(info[3], Tss2_MU_TPM2B_PRIVATE_Unmarshal, "inPrivate");
  auto pub = Unmarshal(info[4], Tss2_MU_TPM2B_PUBLIC_Unmarshal, "inPublic");
  auto handle = std::make_shared<ESYS_TR>(ESYS_TR_NONE);
  return Queue(info, "Load", [c, parent, s1, priv, pub, handle]() {
    return Esys_Load(c->esys, parent, s1, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, handle.get());
  }, [handle](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *handle); });
}

Napi::Value EvictControl(Info info) {
  Context* c = Ctx(info);
  ESYS_TR auth = U32(info, 1, "auth"), s1 = U32(info, 2, "session1");
  ESYS_TR obj = U32(info, 3, "objectHandle");
  TPMI_DH_PERSISTENT persistent = U32(info, 4, "persistentHandle");
  auto handle = std::make_shared<ESYS_TR>(ESYS_TR_NONE);
  return Queue(info, "EvictControl", [c, auth, s1, obj, persistent, handle]() {
    return Esys_EvictControl(c->esys, auth, obj, s1, ESYS_TR_NONE, ESYS_TR_NONE, persistent,
                             handle.get());
  }, [handle](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *handle); });
}

Napi::Value ReadPublic(Info info) {
  Context* c = Ctx(info);
  ESYS_TR obj = U32(info, 1, "objectHandle");
  auto out = NewOut(3);
  return Queue(info, "ReadPublic", [c, obj, out]() {
    TPM2B_PUBLIC* p = nullptr;
    TPM2B_NAME* n = nullptr;
    TPM2B_NAME* qn = nullptr;
    TSS2_RC rc = Esys_ReadPublic(c->esys, obj, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &p, &n, &qn);
    Take(p, (*out)[0], Tss2_MU_TPM2B_PUBLIC_Marshal);
    if (n != nullptr) (*out)[1].assign(n->name, n->name + n->size);
    if (qn != nullptr) (*out)[2].assign(qn->name, qn->name + qn->size);
    Esys_Free(n);
    Esys_Free(qn);
    return rc;
  }, [out](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("outPublic", ToBuffer(env, (*out)[0]));
    o.Set("name", ToBuffer(env, (*out)[1]));
    o.Set("qualifiedName", ToBuffer(env, (*out)[2]));
    return o;
  });
}

Napi::Value TrFromTpmPublic(Info info) {
  Context* c = Ctx(info);
  TPM2_HANDLE h = U32(info, 1, "tpmHandle");
  auto handle = std::make_shared<ESYS_TR>(ESYS_TR_NONE);
  return Queue(info, "TR_FromTPMPublic", [c, h, handle]() {
    return Esys_TR_FromTPMPublic(c->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, handle.get());
  }, [handle](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *handle); });
}

Napi::Value TrClose(Info info) {
  Context* c = Ctx(info);
  ESYS_TR h = U32(info, 1, "handle");
  return Queue(info, "TR_Close", [c, h]() {
    ESYS_TR copy = h;
    return Esys_TR_Close(c->esys, &copy);
  }, Void);
}

Napi::Value TrSetAuth(Info info) {
  Context* c = Ctx(info);
  ESYS_TR h = U32(info, 1, "handle");
  Bytes auth = Raw(info, 2, "authValue");
  if (auth.size() > sizeof(TPMU_HA)) throw Napi::RangeError::New(info.Env(), "authValue too long");
  return Queue(info, "TR_SetAuth", [c, h, auth]() {
    TPM2B_AUTH a{};
    a.size = uint16_t(auth.size());
    std::copy(auth.begin(), auth.end(), a.buffer);
    return Esys_TR_SetAuth(c->esys, h, &a);
  }, Void);
}

Napi::Value TrSessSetAttributes(Info info) {
  Context* c = Ctx(info);
  ESYS_TR h = U32(info, 1, "session");
  TPMA_SESSION flags = TPMA_SESSION(U32(info, 2, "flags")), mask = TPMA_SESSION(U32(info, 3, "mask"));
  return Queue(info, "TRSess_SetAttributes", [c, h, flags, mask]() {
    return Esys_TRSess_SetAttributes(c->esys, h, flags, mask);
  }, Void);
}

Napi::Value NvReadPublic(Info info) {
  Context* c = Ctx(info);
  ESYS_TR nv = U32(info, 1, "nvIndex");
  auto out = NewOut(2);
  return Queue(info, "NV_ReadPublic", [c, nv, out]() {
    TPM2B_NV_PUBLIC* p = nullptr;
    TPM2B_NAME* n = nullptr;
    TSS2_RC rc = Esys_NV_ReadPublic(c->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &p, &n);
    Take(p, (*out)[0], Tss2_MU_TPM2B_NV_PUBLIC_Marshal);
    if (n != nullptr) (*out)[1].assign(n->name, n->name + n->size);
    Esys_Free(n);
    return rc;
  }, [out](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("nvPublic", ToBuffer(env, (*out)[0]));
    o.Set("nvName", ToBuffer(env, (*out)[1]));
    return o;
  });
}

Napi::Value NvRead(Info info) {
  Context* c = Ctx(info);
  ESYS_TR auth = U32(info, 1, "authHandle"), nv = U32(info, 2, "nvIndex");
  ESYS_TR s1 = U32(info, 3, "session1");
  uint16_t size = uint16_t(U32(info, 4, "size")), offset = uint16_t(U32(info, 5, "offset"));
  auto out = NewOut(1);
  return Queue(info, "NV_Read", [c, auth, nv, s1, size, offset, out]() {
    TPM2B_MAX_NV_BUFFER* d = nullptr;
    TSS2_RC rc = Esys_NV_Read(c->esys, auth, nv, s1, ESYS_TR_NONE, ESYS_TR_NONE, size, offset, &d);
    if (d != nullptr) (*out)[0].assign(d->buffer, d->buffer + d->size);
    Esys_Free(d);
    return rc;
  }, [out](Napi::Env env) -> Napi::Value { return ToBuffer(env, (*out)[0]); });
}

Napi::Value StartAuthSession(Info info) {
  Context* c = Ctx(info);
  ESYS_TR tpmKey = U32(info, 1, "tpmKey"), bind = U32(info, 2, "bind");
  TPM2_SE type = TPM2_SE(U32(info, 3, "sessionType"));
  auto sym = Unmarshal(info[4], Tss2_MU_TPMT_SYM_DEF_Unmarshal, "symmetric");
  TPMI_ALG_HASH hash = TPMI_ALG_HASH(U32(info, 5, "authHash"));
  auto handle = std::make_shared<ESYS_TR>(ESYS_TR_NONE);
  return Queue(info, "StartAuthSession", [c, tpmKey, bind, type, sym, hash, handle]() {
    return Esys_StartAuthSession(c->esys, tpmKey, bind, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                 nullptr, type, &sym, hash, handle.get());
  }, [handle](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *handle); });
}

Napi::Value PolicySecret(Info info) {
  Context* c = Ctx(info);
  ESYS_TR auth = U32(info, 1, "authHandle"), policy = U32(info, 2, "policySession");
  ESYS_TR s1 = U32(info, 3, "session1");
  return Queue(info, "PolicySecret", [c, auth, policy, s1]() {
    TPM2B_DIGEST* timeout = nullptr;
    TPMT_TK_AUTH* ticket = nullptr;
    TSS2_RC rc = Esys_PolicySecret(c->esys, auth, policy, s1, ESYS_TR_NONE, ESYS_TR_NONE, nullptr,
                                   nullptr, nullptr, 0, &timeout, &ticket);
    Esys_Free(timeout);
    Esys_Free(ticket);
    return rc;
  }, Void);
}

Napi::Value ActivateCredential(Info info) {
  Context* c = Ctx(info);
  ESYS_TR act = U32(info, 1, "activateHandle"), key = U32(info, 2, "keyHandle");
  ESYS_TR s1 = U32(info, 3, "session1"), s2 = U32(info, 4, "session2");
  auto blob = Unmarshal(info[5], Tss2_MU_TPM2B_ID_OBJECT_Unmarshal, "credentialBlob");
  auto secret = Unmarshal(info[6], Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal, "secret");
  auto out = NewOut(1);
  return Queue(info, "ActivateCredential", [c, act, key, s1, s2, blob, secret, out]() {
    TPM2B_DIGEST* cert = nullptr;
    TSS2_RC rc = Esys_ActivateCredential(c->esys, act, key, s1, s2, ESYS_TR_NONE, &blob, &secret,
                                         &cert);
    if (cert != nullptr) (*out)[0].assign(cert->buffer, cert->buffer + cert->size);
    Esys_Free(cert);
    return rc;
  }, [out](Napi::Env env) -> Napi::Value { return ToBuffer(env, (*out)[0]); });
}

Napi::Value Quote(Info info) {
  Context* c = Ctx(info);
  ESYS_TR sign = U32(info, 1, "signHandle"), s1 = U32(info, 2, "session1");
  Bytes nonce = Raw(info, 3, "qualifyingData");
  if (nonce.size() > sizeof(TPMU_HA)) throw Napi::RangeError::New(info.Env(), "nonce too long");
  auto scheme = Unmarshal(info[4], Tss2_MU_TPMT_SIG_SCHEME_Unmarshal, "inScheme");
  auto sel = Unmarshal(info[5], Tss2_MU_TPML_PCR_SELECTION_Unmarshal, "pcrSelect");
  auto out = NewOut(2);
  return Queue(info, "Quote", [c, sign, s1, nonce, scheme, sel, out]() {
    TPM2B_DATA q{};
    q.size = uint16_t(nonce.size());
    std::copy(nonce.begin(), nonce.end(), q.buffer);
    TPM2B_ATTEST* a = nullptr;
    TPMT_SIGNATURE* sig = nullptr;
    TSS2_RC rc = Esys_Quote(c->esys, sign, s1, ESYS_TR_NONE, ESYS_TR_NONE, &q, &scheme, &sel, &a, &sig);
    if (a != nullptr) (*out)[0].assign(a->attestationData, a->attestationData + a->size);
    Esys_Free(a);
    Take(sig, (*out)[1], Tss2_MU_TPMT_SIGNATURE_Marshal);
    return rc;
  }, [out](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("attest", ToBuffer(env, (*out)[0]));
    o.Set("signature", ToBuffer(env, (*out)[1]));
    return o;
  });
}

Napi::Value FlushContext(Info info) {
  Context* c = Ctx(info);
  ESYS_TR h = U32(info, 1, "flushHandle");
  return Queue(info, "FlushContext", [c, h]() { return Esys_FlushContext(c->esys, h); }, Void);
}

}  // namespace

void DefineCommands(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Value (*fn)(Info);
  };
  const Entry entries[] = {
      {"open", Open}, {"close", Close}, {"startup", Startup}, {"shutdown", Shutdown},
      {"getRandom", GetRandom}, {"getCapability", GetCapability}, {"pcrRead", PcrRead},
      {"pcrExtend", PcrExtend}, {"pcrReset", PcrReset}, {"createPrimary", CreatePrimary},
      {"create", Create}, {"load", Load}, {"evictControl", EvictControl},
      {"readPublic", ReadPublic}, {"trFromTpmPublic", TrFromTpmPublic}, {"trClose", TrClose},
      {"trSetAuth", TrSetAuth}, {"trSessSetAttributes", TrSessSetAttributes},
      {"nvReadPublic", NvReadPublic}, {"nvRead", NvRead}, {"startAuthSession", StartAuthSession},
      {"policySecret", PolicySecret}, {"activateCredential", ActivateCredential},
      {"quote", Quote}, {"flushContext", FlushContext},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
}

}  // namespace nodetpm2
