// graft-envs' shim over MuJoCo's C API: the only C in graft-envs, compiled by envs/build.rs
// against the headers scripts/setup.sh provisions (PyPI's `mujoco` wheel).
//
// It does three things Rust cannot do, or cannot do without UB:
//
// 1. Load libmujoco at run time (dlopen), so that nothing links against it: the `graft`
//    binary and every test binary of the workspace start without it, and only making a MuJoCo
//    environment needs it (a typed error otherwise).
// 2. Turn MuJoCo's fatal errors into return codes. MuJoCo calls its log handler with
//    mjLOG_ERROR and requires that the handler does not return (engine_util_errmem.c: "error
//    handlers are expected to not return (longjmp or exit)"); the default handler exits the
//    process. Every call that can raise an error runs inside a setjmp guard here, and our
//    handler longjmps back to it with MuJoCo's message. The jump never crosses Rust frames,
//    and the engine functions it leaves (mj_step, mj_forward, mj_resetData, mj_makeData) are
//    C. MuJoCo's compiler is C++, but it installs its own thread-local handler while it runs
//    (which takes precedence over ours) and returns its errors in mj_loadXML's error buffer;
//    the guard around mj_loadXML is a backstop. This is what MuJoCo's own Python bindings do
//    (python/mujoco/errors.h). After an error the mjData is left mid-computation (its stack
//    marked); the Rust side refuses to step it again until mj_resetData.
// 3. Read mjModel/mjData fields by name from MuJoCo's own X-macro tables (mjxmacro.h), so
//    the struct layouts come from the C compiler and the real headers, not from a copy.
//
// Warnings (mjLOG_WARNING) raised inside a guarded call are neither printed nor appended to
// MUJOCO_LOG.TXT; the Rust side reads mjData's warning counters and reports them in `info`.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mujoco/mujoco.h>

// ---------------------------------------------------------------------------------------------
// The functions of libmujoco in use, resolved by dlsym.

typedef struct {
  int (*version)(void);
  mjModel* (*loadXML)(const char*, const mjVFS*, char*, int);
  void (*deleteModel)(mjModel*);
  mjData* (*makeData)(const mjModel*);
  void (*deleteData)(mjData*);
  void (*resetData)(const mjModel*, mjData*);
  void (*step)(const mjModel*, mjData*);
  void (*forward)(const mjModel*, mjData*);
  void (*step1)(const mjModel*, mjData*);
  void (*step2)(const mjModel*, mjData*);
  const char* (*id2name)(const mjModel*, int, int);
  void (*rnePostConstraint)(const mjModel*, mjData*);
  int (*name2id)(const mjModel*, int, const char*);
  void (*defaultVFS)(mjVFS*);
  int (*addBufferVFS)(mjVFS*, const char*, const void*, int);
  void (*deleteVFS)(mjVFS*);
  mjfLogHandler (*setLogHandler)(mjfLogHandler);
  const char* (*warningText)(int, size_t);
  // Rendering (render section below).
  void (*defaultScene)(mjvScene*);
  void (*makeScene)(const mjModel*, mjvScene*, int);
  void (*freeScene)(mjvScene*);
  void (*defaultCamera)(mjvCamera*);
  void (*defaultOption)(mjvOption*);
  void (*defaultPerturb)(mjvPerturb*);
  void (*updateScene)(const mjModel*, mjData*, const mjvOption*, const mjvPerturb*, mjvCamera*,
                      int, mjvScene*);
  void (*defaultContext)(mjrContext*);
  void (*makeContext)(const mjModel*, mjrContext*, int);
  void (*freeContext)(mjrContext*);
  void (*setBuffer)(int, mjrContext*);
  void (*resizeOffscreen)(int, int, mjrContext*);
  void (*render)(mjrRect, mjvScene*, const mjrContext*);
  void (*readPixels)(unsigned char*, float*, mjrRect, const mjrContext*);
} Api;

// Written once by graft_mj_open (which Rust calls exactly once, under a OnceLock), read-only
// afterwards.
static Api api;
// The handler that was active before ours: messages from outside a guarded call go there.
static mjfLogHandler previous_handler = NULL;

// ---------------------------------------------------------------------------------------------
// Error and warning capture.

// The guard of the innermost guarded call on this thread, or NULL outside one.
static _Thread_local jmp_buf* tls_guard = NULL;
static _Thread_local char tls_error[1024];

static void copy_message(char* dst, size_t n, const mjLogMessage* msg) {
  if (msg->func) {
    snprintf(dst, n, "%s: %s", msg->func, msg->subject);
  } else {
    snprintf(dst, n, "%s", msg->subject);
  }
}

static void graft_log_handler(const mjLogMessage* msg) {
  if (tls_guard == NULL) {
    // Not ours (another user of libmujoco in this process, or a call that cannot fail):
    // MuJoCo's own behaviour.
    if (previous_handler) previous_handler(msg);
    return;
  }
  if (msg->level == mjLOG_ERROR) {
    copy_message(tls_error, sizeof tls_error, msg);
    longjmp(*tls_guard, 1);
  }
  // Warnings are dropped here: mj_warning also counts them in mjData's `warning` array, which
  // the Rust side reads after each call. Info and debug messages are opt-in topics, off by
  // default.
}

static void set_error(char* err, int errsz, const char* text) {
  if (err && errsz > 0) snprintf(err, (size_t)errsz, "%s", text);
}

// Run `body` under a guard: 0 when it returned, -1 (message in err) when MuJoCo raised an
// error. `body` must not assign locals of the enclosing function that are read after a jump.
#define GUARDED(err, errsz, body)                  \
  do {                                             \
    jmp_buf guard_;                                \
    jmp_buf* outer_ = tls_guard;                   \
    tls_guard = &guard_;                           \
    if (setjmp(guard_) == 0) {                     \
      body;                                        \
      tls_guard = outer_;                          \
      return 0;                                    \
    }                                              \
    tls_guard = outer_;                            \
    set_error((err), (errsz), tls_error);          \
    return -1;                                     \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Loading the library.

int graft_mj_header_version(void) { return mjVERSION_HEADER; }

#define RESOLVE(field, symbol)                                                      \
  do {                                                                              \
    *(void**)(&api.field) = dlsym(lib, symbol);                                     \
    if (!api.field) {                                                               \
      snprintf(err, (size_t)errsz, "%s lacks the symbol %s", path, symbol);        \
      return -1;                                                                    \
    }                                                                               \
  } while (0)

// Open libmujoco at `path`, resolve the functions above, check that its version is the
// headers', and install the log handler. 0 on success, -1 with a message in `err`.
int graft_mj_open(const char* path, char* err, int errsz) {
  void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    snprintf(err, (size_t)errsz, "%s", why ? why : "dlopen failed");
    return -1;
  }
  RESOLVE(version, "mj_version");
  RESOLVE(loadXML, "mj_loadXML");
  RESOLVE(deleteModel, "mj_deleteModel");
  RESOLVE(makeData, "mj_makeData");
  RESOLVE(deleteData, "mj_deleteData");
  RESOLVE(resetData, "mj_resetData");
  RESOLVE(step, "mj_step");
  RESOLVE(forward, "mj_forward");
  RESOLVE(step1, "mj_step1");
  RESOLVE(step2, "mj_step2");
  RESOLVE(id2name, "mj_id2name");
  RESOLVE(rnePostConstraint, "mj_rnePostConstraint");
  RESOLVE(name2id, "mj_name2id");
  RESOLVE(defaultVFS, "mj_defaultVFS");
  RESOLVE(addBufferVFS, "mj_addBufferVFS");
  RESOLVE(deleteVFS, "mj_deleteVFS");
  RESOLVE(setLogHandler, "mju_setLogHandler");
  RESOLVE(warningText, "mju_warningText");
  RESOLVE(defaultScene, "mjv_defaultScene");
  RESOLVE(makeScene, "mjv_makeScene");
  RESOLVE(freeScene, "mjv_freeScene");
  RESOLVE(defaultCamera, "mjv_defaultCamera");
  RESOLVE(defaultOption, "mjv_defaultOption");
  RESOLVE(defaultPerturb, "mjv_defaultPerturb");
  RESOLVE(updateScene, "mjv_updateScene");
  RESOLVE(defaultContext, "mjr_defaultContext");
  RESOLVE(makeContext, "mjr_makeContext");
  RESOLVE(freeContext, "mjr_freeContext");
  RESOLVE(setBuffer, "mjr_setBuffer");
  RESOLVE(resizeOffscreen, "mjr_resizeOffscreen");
  RESOLVE(render, "mjr_render");
  RESOLVE(readPixels, "mjr_readPixels");
  int version = api.version();
  if (version != mjVERSION_HEADER) {
    snprintf(err, (size_t)errsz,
             "%s is MuJoCo %d.%d.%d, but graft-envs was compiled against the headers of %d.%d.%d",
             path, version / 1000000, version / 1000 % 1000, version % 1000,
             mjVERSION_HEADER / 1000000, mjVERSION_HEADER / 1000 % 1000, mjVERSION_HEADER % 1000);
    return -1;
  }
  previous_handler = api.setLogHandler(graft_log_handler);
  return 0;
}

int graft_mj_version(void) { return api.version(); }

// ---------------------------------------------------------------------------------------------
// Models and data.

// Compile a model. With `nfiles` 0, from the file `filename`; otherwise from `nfiles` in-memory
// files (`names[i]`, `lens[i]` bytes at `texts[i]`) that MuJoCo sees in a virtual file system,
// `filename` being one of them: the main file, whose `<include file=...>` name the others.
// NULL on failure, with MuJoCo's message in `err`.
mjModel* graft_mj_load_xml(const char* filename, int nfiles, const char* const* names,
                           const char* const* texts, const int* lens, char* err, int errsz) {
  // volatile: read after a possible longjmp.
  mjModel* volatile model = NULL;
  mjVFS vfs;
  int use_vfs = nfiles > 0;
  err[0] = '\0';
  if (use_vfs) {
    api.defaultVFS(&vfs);
    for (int i = 0; i < nfiles; i++) {
      if (api.addBufferVFS(&vfs, names[i], texts[i], lens[i]) != 0) {
        api.deleteVFS(&vfs);
        snprintf(err, (size_t)errsz,
                 "could not add %s to MuJoCo's virtual file system (a duplicate name?)",
                 names[i]);
        return NULL;
      }
    }
  }
  jmp_buf guard;
  jmp_buf* outer = tls_guard;
  tls_guard = &guard;
  if (setjmp(guard) == 0) {
    model = api.loadXML(filename, use_vfs ? &vfs : NULL, err, errsz);
  } else {
    set_error(err, errsz, tls_error);
  }
  tls_guard = outer;
  if (use_vfs) api.deleteVFS(&vfs);
  if (!model && err[0] == '\0') set_error(err, errsz, "mj_loadXML failed without a message");
  return model;
}

void graft_mj_delete_model(mjModel* m) { api.deleteModel(m); }

mjData* graft_mj_make_data(const mjModel* m, char* err, int errsz) {
  mjData* volatile d = NULL;
  jmp_buf guard;
  jmp_buf* outer = tls_guard;
  tls_guard = &guard;
  if (setjmp(guard) == 0) {
    d = api.makeData(m);
    if (!d) set_error(err, errsz, "mj_makeData returned NULL");
  } else {
    set_error(err, errsz, tls_error);
  }
  tls_guard = outer;
  return d;
}

void graft_mj_delete_data(mjData* d) { api.deleteData(d); }

// `nstep` times mj_step, then mj_rnePostConstraint: Gymnasium's
// MujocoEnv._step_mujoco_simulation.
int graft_mj_step(const mjModel* m, mjData* d, int nstep, char* err, int errsz) {
  GUARDED(err, errsz, {
    for (int i = 0; i < nstep; i++) api.step(m, d);
    api.rnePostConstraint(m, d);
  });
}

int graft_mj_forward(const mjModel* m, mjData* d, char* err, int errsz) {
  GUARDED(err, errsz, api.forward(m, d));
}

int graft_mj_reset_data(const mjModel* m, mjData* d, char* err, int errsz) {
  GUARDED(err, errsz, api.resetData(m, d));
}

// dm_control's `Physics.step(nstep)` with `legacy_step` (dm_control/mujoco/engine.py): the
// previous call (or the reset's mj_forward) already ran mj_step1 for this state, so finish
// that step with mj_step2, take the other nstep - 1 steps whole, and end with mj_step1 so that
// the position- and velocity-dependent fields match the new qpos/qvel (RK4 cannot be split,
// so it steps whole and adds the mj_step1). No mj_rnePostConstraint: dm_control calls none.
int graft_mj_step_legacy(const mjModel* m, mjData* d, int nstep, char* err, int errsz) {
  GUARDED(err, errsz, {
    if (m->opt.integrator != mjINT_RK4) {
      api.step2(m, d);
      for (int i = 1; i < nstep; i++) api.step(m, d);
    } else {
      for (int i = 0; i < nstep; i++) api.step(m, d);
    }
    api.step1(m, d);
  });
}

// mj_forward with actuation disabled (mjDSBL_ACTUATION set for the call, then restored), as
// dm_control's `Physics.reset` and `after_reset` run it. Writes the model's option flags, so
// the caller must hold the model exclusively.
int graft_mj_forward_unactuated(mjModel* m, mjData* d, char* err, int errsz) {
  int saved = m->opt.disableflags;
  m->opt.disableflags = saved | mjDSBL_ACTUATION;
  int rc = graft_mj_forward(m, d, err, errsz);
  m->opt.disableflags = saved;
  return rc;
}

// mjData's contact count and simulation time.
int graft_mj_ncon(const mjData* d) { return d->ncon; }
double graft_mj_time(const mjData* d) { return d->time; }
void graft_mj_set_time(mjData* d, double t) { d->time = t; }

// The value of one of MuJoCo's enum constants by its name (object kinds, joint and sensor
// types), or -1 for a name not in this table; so the Rust side copies no enum values.
int graft_mj_enum(const char* name) {
#define ENUM(e)                          \
  if (strcmp(name, #e) == 0) return (e);
  ENUM(mjOBJ_BODY) ENUM(mjOBJ_JOINT) ENUM(mjOBJ_GEOM) ENUM(mjOBJ_SITE) ENUM(mjOBJ_CAMERA)
  ENUM(mjOBJ_MATERIAL) ENUM(mjOBJ_ACTUATOR) ENUM(mjOBJ_SENSOR)
  ENUM(mjJNT_FREE) ENUM(mjJNT_BALL) ENUM(mjJNT_SLIDE) ENUM(mjJNT_HINGE)
  ENUM(mjSENS_ACCELEROMETER) ENUM(mjSENS_GYRO) ENUM(mjSENS_FORCE) ENUM(mjSENS_TORQUE)
  ENUM(mjRND_SHADOW) ENUM(mjRND_REFLECTION) ENUM(mjRND_SKYBOX)
#undef ENUM
  return -1;
}

// Read (value NULL) or write one of the model's integer visual settings by name: the shadow
// map's size, the multisamples and the default offscreen buffer (read when a renderer's
// context is made). 0 when known, -1 for another name.
int graft_mj_visual_int(mjModel* m, const char* name, const int* value, int* out) {
  int* field = NULL;
  if (strcmp(name, "shadowsize") == 0) field = &m->vis.quality.shadowsize;
  else if (strcmp(name, "offsamples") == 0) field = &m->vis.quality.offsamples;
  else if (strcmp(name, "offwidth") == 0) field = &m->vis.global.offwidth;
  else if (strcmp(name, "offheight") == 0) field = &m->vis.global.offheight;
  if (!field) return -1;
  if (value) *field = *value;
  if (out) *out = *field;
  return 0;
}

// The name of object `id` of type `type`, or NULL.
const char* graft_mj_id2name(const mjModel* m, int type, int id) {
  return api.id2name(m, type, id);
}

int graft_mj_name2id(const mjModel* m, int type, const char* name) {
  return api.name2id(m, type, name);
}

double graft_mj_timestep(const mjModel* m) { return m->opt.timestep; }

// ---------------------------------------------------------------------------------------------
// Fields by name, from mjxmacro.h.

// Element kinds, as the Rust side's `Kind`.
enum { KIND_F64 = 0, KIND_I32 = 1, KIND_F32 = 2, KIND_U8 = 3, KIND_OTHER = 4 };

// mjtBool (_Bool, one byte holding 0 or 1) reads as a byte.
#define KIND_OF(type)                                                                     \
  _Generic((type*)0, mjtNum*: KIND_F64, int*: KIND_I32, float*: KIND_F32, mjtByte*: KIND_U8, \
           _Bool*: KIND_U8, default: KIND_OTHER)

// A size of mjModel (nq, nv, nu, nbody, ...). 0 when known, -1 for an unknown name.
int graft_mj_model_size(const mjModel* m, const char* name, long long* out) {
#define X(n)                       \
  if (strcmp(name, #n) == 0) {     \
    *out = (long long)m->n;        \
    return 0;                      \
  }
  MJMODEL_SIZES
#undef X
  return -1;
}

// An array of mjModel by name: its address, rows, columns and element kind. 0 when found,
// -1 for an unknown name. The address is valid as long as the model.
int graft_mj_model_array(const mjModel* m, const char* name, const void** ptr, long long* rows,
                         long long* cols, int* kind) {
  MJMODEL_POINTERS_PREAMBLE(m)
#define X(type, n, nr, nc)             \
  if (strcmp(name, #n) == 0) {         \
    *ptr = (const void*)m->n;          \
    *rows = (long long)m->nr;          \
    *cols = (long long)(nc);           \
    *kind = KIND_OF(type);             \
    return 0;                          \
  }
  MJMODEL_POINTERS
#undef X
  (void)nuser_body; (void)nuser_jnt; (void)nuser_geom; (void)nuser_site; (void)nuser_cam;
  (void)nuser_tendon; (void)nuser_actuator; (void)nuser_sensor; (void)nq; (void)nv; (void)na;
  (void)nu; (void)nmocap;
  return -1;
}

// An array of mjData by name (qpos, qvel, ctrl, xpos, cfrc_ext, ...), as
// graft_mj_model_array. The address is valid as long as the data: mj_makeData lays these
// arrays out once.
int graft_mj_data_array(const mjModel* m, mjData* d, const char* name, void** ptr,
                        long long* rows, long long* cols, int* kind) {
#define X(type, n, nr, nc)             \
  if (strcmp(name, #n) == 0) {         \
    *ptr = (void*)d->n;                \
    *rows = (long long)m->nr;          \
    *cols = (long long)(nc);           \
    *kind = KIND_OF(type);             \
    return 0;                          \
  }
  MJDATA_POINTERS
#undef X
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Warnings.

int graft_mj_nwarning(void) { return mjNWARNING; }

// Copy mjData's warning counters into numbers/lastinfo (mjNWARNING each) and zero them, so
// the next call sees only what happened in between. MuJoCo reads the counters only to print
// a warning's first occurrence; the physics never reads them.
void graft_mj_take_warnings(mjData* d, int* numbers, int* lastinfo) {
  for (int i = 0; i < mjNWARNING; i++) {
    numbers[i] = d->warning[i].number;
    lastinfo[i] = d->warning[i].lastinfo;
    d->warning[i].number = 0;
    d->warning[i].lastinfo = 0;
  }
}

// MuJoCo's text for warning `i` with its info (e.g. "Nan, Inf or huge value in QACC at DOF 0.
// The simulation is unstable."). Copied into `out`.
void graft_mj_warning_text(int i, int info, char* out, int outsz) {
  const char* text = api.warningText(i, (size_t)info);
  snprintf(out, (size_t)outsz, "%s", text ? text : "");
}

// ---------------------------------------------------------------------------------------------
// Rendering: Gymnasium's OffScreenViewer (mujoco_rendering.py). Every function here needs an
// OpenGL context current on the calling thread (gl.c); the Rust side makes it current around
// each call.

// A scene, camera, options and MuJoCo GL context: the state of one OffScreenViewer.
typedef struct {
  mjvScene scn;
  mjvCamera cam;
  mjvOption opt;
  mjvPerturb pert;
  mjrContext con;
} GraftRenderer;

// The camera fields Graft sets (mjvCamera's, all of them), in a layout of our own.
typedef struct {
  int type;
  int fixedcamid;
  int trackbodyid;
  double lookat[3];
  double distance;
  double azimuth;
  double elevation;
  int orthographic;
} GraftCamera;

static GraftRenderer* new_renderer(void) {
  GraftRenderer* r = calloc(1, sizeof(GraftRenderer));
  if (!r) return NULL;
  api.defaultScene(&r->scn);
  api.defaultCamera(&r->cam);
  api.defaultOption(&r->opt);
  api.defaultPerturb(&r->pert);
  api.defaultContext(&r->con);
  return r;
}

static int make_renderer(const mjModel* m, GraftRenderer* r, int maxgeom, int width, int height,
                         char* err, int errsz) {
  GUARDED(err, errsz, {
    // MjvScene(model, max_geom), MjrContext(model, mjFONTSCALE_150), mjr_setBuffer.
    api.makeScene(m, &r->scn, maxgeom);
    api.makeContext(m, &r->con, mjFONTSCALE_150);
    api.setBuffer(mjFB_OFFSCREEN, &r->con);
    // Gymnasium grows the model's offwidth/offheight to the requested size before the
    // context copies them; the model is shared here, so the buffer is grown instead.
    if (r->con.offWidth < width || r->con.offHeight < height) {
      int w = r->con.offWidth > width ? r->con.offWidth : width;
      int h = r->con.offHeight > height ? r->con.offHeight : height;
      api.resizeOffscreen(w, h, &r->con);
      api.setBuffer(mjFB_OFFSCREEN, &r->con);
    }
  });
}

// A renderer for `m` with room for `maxgeom` geoms and an offscreen buffer of at least
// width x height; NULL with MuJoCo's message on failure.
GraftRenderer* graft_mjr_create(const mjModel* m, int maxgeom, int width, int height, char* err,
                                int errsz) {
  GraftRenderer* r = new_renderer();
  if (!r) {
    set_error(err, errsz, "out of memory for the renderer");
    return NULL;
  }
  if (make_renderer(m, r, maxgeom, width, height, err, errsz) != 0) {
    // Whatever was made before the error is freed; both functions accept defaults.
    api.freeContext(&r->con);
    api.freeScene(&r->scn);
    free(r);
    return NULL;
  }
  return r;
}

void graft_mjr_free(GraftRenderer* r) {
  api.freeContext(&r->con);
  api.freeScene(&r->scn);
  free(r);
}

void graft_mjr_get_camera(const GraftRenderer* r, GraftCamera* out) {
  out->type = r->cam.type;
  out->fixedcamid = r->cam.fixedcamid;
  out->trackbodyid = r->cam.trackbodyid;
  for (int i = 0; i < 3; i++) out->lookat[i] = r->cam.lookat[i];
  out->distance = r->cam.distance;
  out->azimuth = r->cam.azimuth;
  out->elevation = r->cam.elevation;
  out->orthographic = r->cam.orthographic;
}

void graft_mjr_set_camera(GraftRenderer* r, const GraftCamera* c) {
  r->cam.type = c->type;
  r->cam.fixedcamid = c->fixedcamid;
  r->cam.trackbodyid = c->trackbodyid;
  for (int i = 0; i < 3; i++) r->cam.lookat[i] = c->lookat[i];
  r->cam.distance = c->distance;
  r->cam.azimuth = c->azimuth;
  r->cam.elevation = c->elevation;
  r->cam.orthographic = c->orthographic;
}

int graft_mjr_nvisflag(void) { return mjNVISFLAG; }

// Turn one of the scene's rendering flags (mjtRndFlag: shadows, reflections, skybox, ...) on or
// off; -1 for a flag out of range.
int graft_mjr_set_rndflag(GraftRenderer* r, int flag, int value) {
  if (flag < 0 || flag >= mjNRNDFLAG) return -1;
  r->scn.flags[flag] = (mjtByte)(value != 0);
  return 0;
}

// mjvOption.flags[flag] = value (Gymnasium's `visual_options`). -1 for an unknown flag.
int graft_mjr_set_visflag(GraftRenderer* r, int flag, int value) {
  if (flag < 0 || flag >= mjNVISFLAG) return -1;
  r->opt.flags[flag] = (mjtByte)(value != 0);
  return 0;
}

double graft_mj_extent(const mjModel* m) { return m->stat.extent; }

// The camera count, for checking camera_id.
int graft_mj_ncam(const mjModel* m) { return m->ncam; }

// One frame of width x height into `rgb` (3 bytes a pixel, bottom row first, as OpenGL
// reads): mjv_updateScene with every category, mjr_render, mjr_readPixels. The offscreen
// buffer must be at least that large. mjv_updateScene writes only mjData's stack (scratch
// space it frees again), never the state.
int graft_mjr_render(const mjModel* m, mjData* d, GraftRenderer* r, int width, int height,
                     unsigned char* rgb, char* err, int errsz) {
  mjrRect viewport;  // no initializer list: its commas would split the macro's argument
  viewport.left = 0;
  viewport.bottom = 0;
  viewport.width = width;
  viewport.height = height;
  GUARDED(err, errsz, {
    api.updateScene(m, d, &r->opt, &r->pert, &r->cam, mjCAT_ALL, &r->scn);
    api.render(viewport, &r->scn, &r->con);
    api.readPixels(rgb, NULL, viewport, &r->con);
  });
}

// The offscreen buffer's size.
void graft_mjr_offscreen_size(const GraftRenderer* r, int* width, int* height) {
  *width = r->con.offWidth;
  *height = r->con.offHeight;
}
