// graft-envs' offscreen OpenGL contexts for MuJoCo rendering: EGL with no display, as
// MuJoCo's Python bindings (`mujoco.egl.GLContext`, what Gymnasium uses under MUJOCO_GL=egl).
//
// libEGL is loaded with dlopen at run time, like libmujoco, so building graft-envs and every
// use that does not render need no GL package. It is opened RTLD_GLOBAL because MuJoCo's GL
// loader (its own glad) finds OpenGL's entry points through `eglGetProcAddress` looked up in
// the process's global namespace, as it finds it when PyOpenGL has loaded libEGL.
//
// The display follows mujoco/egl/__init__.py: the first EGL device that initialises
// (EGL_EXT_platform_device; Mesa lists its software rasteriser llvmpipe as a device), else
// Mesa's surfaceless platform, else the default display. The config asks for the same
// attributes (RGBA8, depth 24, stencil 8, pbuffer, desktop OpenGL), and the context is made
// current with no surface (EGL_KHR_surfaceless_context); MuJoCo renders into its own
// framebuffer object (mjFB_OFFSCREEN). No EGL header is needed: the few types and constants
// are the Khronos registry's.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

typedef void* EGLDisplay;
typedef void* EGLConfig;
typedef void* EGLContext;
typedef void* EGLSurface;
typedef void* EGLDeviceEXT;
typedef int32_t EGLint;
typedef unsigned int EGLBoolean;
typedef unsigned int EGLenum;

#define EGL_SUCCESS 0x3000
#define EGL_NONE 0x3038
#define EGL_ALPHA_SIZE 0x3021
#define EGL_BLUE_SIZE 0x3022
#define EGL_GREEN_SIZE 0x3023
#define EGL_RED_SIZE 0x3024
#define EGL_DEPTH_SIZE 0x3025
#define EGL_STENCIL_SIZE 0x3026
#define EGL_SURFACE_TYPE 0x3033
#define EGL_COLOR_BUFFER_TYPE 0x303F
#define EGL_RENDERABLE_TYPE 0x3040
#define EGL_RGB_BUFFER 0x308E
#define EGL_PBUFFER_BIT 0x0001
#define EGL_OPENGL_BIT 0x0008
#define EGL_OPENGL_API 0x30A2
#define EGL_PLATFORM_DEVICE_EXT 0x313F
#define EGL_PLATFORM_SURFACELESS_MESA 0x31DD

static struct {
  EGLint (*getError)(void);
  EGLDisplay (*getDisplay)(void*);
  EGLBoolean (*initialize)(EGLDisplay, EGLint*, EGLint*);
  EGLBoolean (*chooseConfig)(EGLDisplay, const EGLint*, EGLConfig*, EGLint, EGLint*);
  EGLBoolean (*bindAPI)(EGLenum);
  EGLContext (*createContext)(EGLDisplay, EGLConfig, EGLContext, const EGLint*);
  EGLBoolean (*destroyContext)(EGLDisplay, EGLContext);
  EGLBoolean (*makeCurrent)(EGLDisplay, EGLSurface, EGLSurface, EGLContext);
  EGLBoolean (*releaseThread)(void);
  void* (*getProcAddress)(const char*);
  // Extensions, through eglGetProcAddress (NULL when absent).
  EGLBoolean (*queryDevices)(EGLint, EGLDeviceEXT*, EGLint*);
  EGLDisplay (*getPlatformDisplay)(EGLenum, void*, const EGLint*);
} egl;

// Written once by graft_gl_open (called once, under a OnceLock on the Rust side).
static EGLDisplay display = NULL;
static EGLConfig config = NULL;

static const EGLint config_attributes[] = {
    EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8,
    EGL_DEPTH_SIZE, 24, EGL_STENCIL_SIZE, 8, EGL_COLOR_BUFFER_TYPE, EGL_RGB_BUFFER,
    EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_NONE};

static int initialized(EGLDisplay d) {
  if (!d) return 0;
  EGLint major = 0, minor = 0;
  return egl.initialize(d, &major, &minor) && egl.getError() == EGL_SUCCESS;
}

static EGLDisplay open_display(void) {
  if (egl.queryDevices && egl.getPlatformDisplay) {
    EGLDeviceEXT devices[16];
    EGLint n = 0;
    if (egl.queryDevices(16, devices, &n)) {
      for (EGLint i = 0; i < n; i++) {
        EGLDisplay d = egl.getPlatformDisplay(EGL_PLATFORM_DEVICE_EXT, devices[i], NULL);
        if (d && egl.getError() == EGL_SUCCESS && initialized(d)) return d;
      }
    }
    EGLDisplay d = egl.getPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA, NULL, NULL);
    if (initialized(d)) return d;
  }
  EGLDisplay d = egl.getDisplay(NULL);
  return initialized(d) ? d : NULL;
}

#define RESOLVE(field, symbol)                                                        \
  do {                                                                                \
    *(void**)(&egl.field) = dlsym(lib, symbol);                                       \
    if (!egl.field) {                                                                 \
      snprintf(err, (size_t)errsz, "%s lacks the symbol %s", library, symbol);        \
      return -1;                                                                      \
    }                                                                                 \
  } while (0)

// Load libEGL (`library`, e.g. "libEGL.so.1"), open a display and choose a framebuffer
// config. 0 on success; -1 with the reason in `err`; -2 when the library itself is missing.
int graft_gl_open(const char* library, char* err, int errsz) {
  void* lib = dlopen(library, RTLD_NOW | RTLD_GLOBAL);
  if (!lib) {
    const char* why = dlerror();
    snprintf(err, (size_t)errsz, "%s", why ? why : "dlopen failed");
    return -2;
  }
  RESOLVE(getError, "eglGetError");
  RESOLVE(getDisplay, "eglGetDisplay");
  RESOLVE(initialize, "eglInitialize");
  RESOLVE(chooseConfig, "eglChooseConfig");
  RESOLVE(bindAPI, "eglBindAPI");
  RESOLVE(createContext, "eglCreateContext");
  RESOLVE(destroyContext, "eglDestroyContext");
  RESOLVE(makeCurrent, "eglMakeCurrent");
  RESOLVE(releaseThread, "eglReleaseThread");
  RESOLVE(getProcAddress, "eglGetProcAddress");
  *(void**)(&egl.queryDevices) = egl.getProcAddress("eglQueryDevicesEXT");
  *(void**)(&egl.getPlatformDisplay) = egl.getProcAddress("eglGetPlatformDisplayEXT");
  display = open_display();
  if (!display) {
    snprintf(err, (size_t)errsz,
             "no EGL display could be initialised (no EGL device, no surfaceless platform; "
             "Mesa's EGL driver is in the Debian package libegl-mesa0, its software "
             "rasteriser in libgl1-mesa-dri)");
    return -1;
  }
  EGLint n = 0;
  if (!egl.chooseConfig(display, config_attributes, &config, 1, &n) || n < 1) {
    snprintf(err, (size_t)errsz,
             "EGL has no framebuffer config with RGBA8, depth 24, stencil 8 and desktop "
             "OpenGL (EGL error 0x%x)",
             (unsigned)egl.getError());
    return -1;
  }
  return 0;
}

// A new OpenGL context (not current), or NULL with the reason in `err`.
void* graft_gl_create_context(char* err, int errsz) {
  if (!egl.bindAPI(EGL_OPENGL_API)) {
    snprintf(err, (size_t)errsz, "eglBindAPI(EGL_OPENGL_API) failed (EGL error 0x%x)",
             (unsigned)egl.getError());
    return NULL;
  }
  EGLContext ctx = egl.createContext(display, config, NULL, NULL);
  if (!ctx) {
    snprintf(err, (size_t)errsz, "eglCreateContext failed (EGL error 0x%x)",
             (unsigned)egl.getError());
  }
  return ctx;
}

// Make `ctx` current on the calling thread, with no surface. 0, or -1 with the reason.
int graft_gl_make_current(void* ctx, char* err, int errsz) {
  if (!egl.makeCurrent(display, NULL, NULL, ctx)) {
    snprintf(err, (size_t)errsz, "eglMakeCurrent failed (EGL error 0x%x)",
             (unsigned)egl.getError());
    return -1;
  }
  return 0;
}

// Leave the calling thread with no current context, so another thread may take `ctx`.
void graft_gl_release(void) { egl.makeCurrent(display, NULL, NULL, NULL); }

void graft_gl_destroy_context(void* ctx) { egl.destroyContext(display, ctx); }
