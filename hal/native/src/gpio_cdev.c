/*
 * EdgeFlow GPIO character-device binding (Linux GPIO uAPI v2, <linux/gpio.h>).
 *
 * Deliberately thin: every policy decision (pin maps, debounce defaults, error
 * codes) lives in TypeScript (hal/src/gpio/cdev-chip.ts). This file only turns
 * ioctls into functions. Edge events are read from the line-request fd, which is
 * switched to O_NONBLOCK and watched with a uv_poll handle on the event loop, so
 * reading events never blocks the loop and needs no extra thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, "EDGEFLOW_HAL_NATIVE", "N-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static const char *errno_name(int e) {
  switch (e) {
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EIO: return "EIO";
    case ENOTTY: return "ENOTTY";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EFAULT: return "EFAULT";
    default: return "EUNKNOWN";
  }
}

/* Throws an Error whose .code is the errno name (EBUSY, ...) and .errno the number. */
static napi_value throw_errno(napi_env env, const char *what, int e) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(e));
  napi_value code, message, err, num;
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &err);
  napi_create_int32(env, e, &num);
  napi_set_named_property(env, err, "errno", num);
  napi_throw(env, err);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, "EDGEFLOW_HAL_NATIVE", "missing arguments");
    return 0;
  }
  return 1;
}

static int get_path(napi_env env, napi_value v, char *buf, size_t len) {
  size_t n;
  if (napi_get_value_string_utf8(env, v, buf, len, &n) != napi_ok) {
    napi_throw_type_error(env, "EDGEFLOW_HAL_NATIVE", "path must be a string");
    return 0;
  }
  return 1;
}

static napi_value set_str(napi_env env, napi_value obj, const char *key, const char *val) {
  napi_value v;
  napi_create_string_utf8(env, val, strnlen(val, GPIO_MAX_NAME_SIZE), &v);
  napi_set_named_property(env, obj, key, v);
  return obj;
}

static napi_value set_u32(napi_env env, napi_value obj, const char *key, uint32_t val) {
  napi_value v;
  napi_create_uint32(env, val, &v);
  napi_set_named_property(env, obj, key, v);
  return obj;
}

/* chipInfo(path) -> { name, label, lines } */
static napi_value chip_info(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char path[256];
  if (!get_args(env, info, 1, argv) || !get_path(env, argv[0], path, sizeof path)) return NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, path, errno);
  struct gpiochip_info ci;
  memset(&ci, 0, sizeof ci);
  if (ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "GPIO_GET_CHIPINFO_IOCTL", e);
  }
  close(fd);
  napi_value obj;
  CHECK(napi_create_object(env, &obj));
  set_str(env, obj, "name", ci.name);
  set_str(env, obj, "label", ci.label);
  set_u32(env, obj, "lines", ci.lines);
  return obj;
}

/* lineInfo(path, offset) -> { name, consumer, flags } */
static napi_value line_info(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char path[256];
  uint32_t offset;
  if (!get_args(env, info, 2, argv) || !get_path(env, argv[0], path, sizeof path)) return NULL;
  CHECK(napi_get_value_uint32(env, argv[1], &offset));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, path, errno);
  struct gpio_v2_line_info li;
  memset(&li, 0, sizeof li);
  li.offset = offset;
  if (ioctl(fd, GPIO_V2_GET_LINEINFO_IOCTL, &li) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "GPIO_V2_GET_LINEINFO_IOCTL", e);
  }
  close(fd);
  napi_value obj;
  CHECK(napi_create_object(env, &obj));
  set_str(env, obj, "name", li.name);
  set_str(env, obj, "consumer", li.consumer);
  set_u32(env, obj, "flags", (uint32_t)li.flags);
  return obj;
}

static void fill_config(struct gpio_v2_line_config *cfg, uint32_t flags, uint32_t debounce_us,
                        int32_t output) {
  memset(cfg, 0, sizeof *cfg);
  cfg->flags = flags;
  unsigned n = 0;
  if (debounce_us > 0) {
    cfg->attrs[n].attr.id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
    cfg->attrs[n].attr.debounce_period_us = debounce_us;
    cfg->attrs[n].mask = 1;
    n++;
  }
  if (output >= 0 && (flags & GPIO_V2_LINE_FLAG_OUTPUT)) {
    cfg->attrs[n].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
    cfg->attrs[n].attr.values = output ? 1 : 0;
    cfg->attrs[n].mask = 1;
    n++;
  }
  cfg->num_attrs = n;
}

/* requestLine(path, offset, flags, consumer, debounceUs, outputValue(-1 = none)) -> fd */
static napi_value request_line(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  char path[256];
  char consumer[GPIO_MAX_NAME_SIZE];
  uint32_t offset, flags, debounce;
  int32_t output;
  size_t n;
  if (!get_args(env, info, 6, argv) || !get_path(env, argv[0], path, sizeof path)) return NULL;
  CHECK(napi_get_value_uint32(env, argv[1], &offset));
  CHECK(napi_get_value_uint32(env, argv[2], &flags));
  CHECK(napi_get_value_string_utf8(env, argv[3], consumer, sizeof consumer, &n));
  CHECK(napi_get_value_uint32(env, argv[4], &debounce));
  CHECK(napi_get_value_int32(env, argv[5], &output));
  int chip = open(path, O_RDWR | O_CLOEXEC);
  if (chip < 0) return throw_errno(env, path, errno);
  struct gpio_v2_line_request req;
  memset(&req, 0, sizeof req);
  req.offsets[0] = offset;
  req.num_lines = 1;
  memcpy(req.consumer, consumer, sizeof req.consumer);
  fill_config(&req.config, flags, debounce, output);
  if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &req) < 0) {
    int e = errno;
    close(chip);
    return throw_errno(env, "GPIO_V2_GET_LINE_IOCTL", e);
  }
  /* The request fd outlives the chip fd (the kernel holds its own reference). */
  close(chip);
  int fl = fcntl(req.fd, F_GETFL);
  if (fl < 0 || fcntl(req.fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    int e = errno;
    close(req.fd);
    return throw_errno(env, "fcntl(O_NONBLOCK)", e);
  }
  napi_value fd;
  CHECK(napi_create_int32(env, req.fd, &fd));
  return fd;
}

/* reconfigure(fd, flags, debounceUs, outputValue) */
static napi_value reconfigure(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd, output;
  uint32_t flags, debounce;
  if (!get_args(env, info, 4, argv)) return NULL;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_uint32(env, argv[1], &flags));
  CHECK(napi_get_value_uint32(env, argv[2], &debounce));
  CHECK(napi_get_value_int32(env, argv[3], &output));
  struct gpio_v2_line_config cfg;
  fill_config(&cfg, flags, debounce, output);
  if (ioctl(fd, GPIO_V2_LINE_SET_CONFIG_IOCTL, &cfg) < 0)
    return throw_errno(env, "GPIO_V2_LINE_SET_CONFIG_IOCTL", errno);
  return NULL;
}

/* getValue(fd) -> 0 | 1 (logical value: active-low already applied by the kernel) */
static napi_value get_value(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv)) return NULL;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  struct gpio_v2_line_values v = {.bits = 0, .mask = 1};
  if (ioctl(fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0)
    return throw_errno(env, "GPIO_V2_LINE_GET_VALUES_IOCTL", errno);
  napi_value r;
  CHECK(napi_create_uint32(env, (uint32_t)(v.bits & 1), &r));
  return r;
}

/* setValue(fd, 0 | 1) */
static napi_value set_value(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  uint32_t val;
  if (!get_args(env, info, 2, argv)) return NULL;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_uint32(env, argv[1], &val));
  struct gpio_v2_line_values v = {.bits = val ? 1 : 0, .mask = 1};
  if (ioctl(fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &v) < 0)
    return throw_errno(env, "GPIO_V2_LINE_SET_VALUES_IOCTL", errno);
  return NULL;
}

/* close(fd) */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv)) return NULL;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  if (close(fd) < 0) return throw_errno(env, "close", errno);
  return NULL;
}

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context ctx;
  int fd;
  int closing;
} watch_t;

static void on_closed(uv_handle_t *h) { free(h->data); }

static void stop_watch(watch_t *w) {
  if (w->closing) return;
  w->closing = 1;
  uv_poll_stop(&w->poll);
  napi_delete_reference(w->env, w->callback);
  napi_async_destroy(w->env, w->ctx);
  uv_close((uv_handle_t *)&w->poll, on_closed);
}

/* Reads every queued event (nonblocking) and hands them to JS as one array. */
static void on_readable(uv_poll_t *p, int status, int events) {
  watch_t *w = p->data;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value arr, cb, recv, err = NULL;
  napi_create_array(env, &arr);
  uint32_t count = 0;
  if (status < 0) {
    napi_value code, msg;
    napi_create_string_utf8(env, "EIO", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, uv_strerror(status), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &err);
  } else {
    struct gpio_v2_line_event evs[16];
    for (;;) {
      ssize_t n = read(w->fd, evs, sizeof evs);
      if (n <= 0) {
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
          napi_value code, msg;
          napi_create_string_utf8(env, errno_name(errno), NAPI_AUTO_LENGTH, &code);
          napi_create_string_utf8(env, strerror(errno), NAPI_AUTO_LENGTH, &msg);
          napi_create_error(env, code, msg, &err);
        }
        break;
      }
      size_t k = (size_t)n / sizeof evs[0];
      for (size_t i = 0; i < k; i++) {
        napi_value o, ts;
        napi_create_object(env, &o);
        napi_create_bigint_uint64(env, evs[i].timestamp_ns, &ts);
        napi_set_named_property(env, o, "timestampNs", ts);
        set_u32(env, o, "id", evs[i].id);
        set_u32(env, o, "offset", evs[i].offset);
        set_u32(env, o, "seqno", evs[i].seqno);
        set_u32(env, o, "lineSeqno", evs[i].line_seqno);
        napi_set_element(env, arr, count++, o);
      }
    }
  }
  if (count > 0 || err != NULL) {
    napi_value argv[2];
    napi_value undef;
    napi_get_undefined(env, &undef);
    argv[0] = err ? err : undef;
    /* napi_make_callback needs an object as receiver: undefined makes the call throw and
     * the events already read from the fd would be lost. */
    napi_get_global(env, &recv);
    argv[1] = arr;
    napi_get_reference_value(env, w->callback, &cb);
    napi_value result;
    napi_callback_scope cs;
    napi_value resource;
    napi_create_object(env, &resource);
    napi_open_callback_scope(env, resource, w->ctx, &cs);
    /* Exceptions from the listener surface as uncaughtException, like any callback. */
    napi_make_callback(env, w->ctx, recv, cb, 2, argv, &result);
    napi_close_callback_scope(env, cs);
  }
  napi_close_handle_scope(env, scope);
  if (err != NULL) stop_watch(w);
}

static void finalize_watch(napi_env env, void *data, void *hint) { (void)data; (void)hint; }

/* watch(fd, (err, events[]) => void) -> handle */
static napi_value watch(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  if (!get_args(env, info, 2, argv)) return NULL;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  watch_t *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "watch", ENOMEM);
  w->env = env;
  w->fd = fd;
  napi_value name;
  CHECK(napi_create_string_utf8(env, "EdgeflowGpioWatch", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &w->ctx));
  CHECK(napi_create_reference(env, argv[1], 1, &w->callback));
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r == 0) {
    w->poll.data = w;
    r = uv_poll_start(&w->poll, UV_READABLE, on_readable);
  }
  if (r != 0) {
    napi_delete_reference(env, w->callback);
    napi_async_destroy(env, w->ctx);
    free(w);
    return throw_errno(env, "uv_poll_start", -r);
  }
  napi_value ext;
  CHECK(napi_create_external(env, w, finalize_watch, NULL, &ext));
  return ext;
}

/* unwatch(handle): stops delivery; safe to call twice. */
static napi_value unwatch(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  void *data;
  if (!get_args(env, info, 1, argv)) return NULL;
  CHECK(napi_get_value_external(env, argv[0], &data));
  stop_watch((watch_t *)data);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"chipInfo", NULL, chip_info, NULL, NULL, NULL, napi_default, NULL},
      {"lineInfo", NULL, line_info, NULL, NULL, NULL, napi_default, NULL},
      {"requestLine", NULL, request_line, NULL, NULL, NULL, napi_default, NULL},
      {"reconfigure", NULL, reconfigure, NULL, NULL, NULL, napi_default, NULL},
      {"getValue", NULL, get_value, NULL, NULL, NULL, napi_default, NULL},
      {"setValue", NULL, set_value, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_fd, NULL, NULL, NULL, napi_default, NULL},
      {"watch", NULL, watch, NULL, NULL, NULL, napi_default, NULL},
      {"unwatch", NULL, unwatch, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value t;
  napi_get_boolean(env, 1, &t);
  napi_set_named_property(env, exports, "supported", t);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
