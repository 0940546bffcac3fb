// graft-envs' C interface to the Arcade Learning Environment's C++ `ALEInterface` (ALE 0.12.1,
// compiled by build.rs from ale-py's source distribution when the `atari` feature is on).
//
// Every entry point catches C++ exceptions (ALE throws std::runtime_error for an unsupported
// ROM, a mode or difficulty the game lacks, ...) and reports them as a non-zero status with the
// message copied into the caller's buffer: nothing from C++ unwinds into Rust or aborts.

#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "ale/ale_interface.hpp"
#include "ale/common/Log.hpp"

namespace {

void copy_message(const char* message, char* err, size_t err_len) {
  if (err == nullptr || err_len == 0) return;
  std::strncpy(err, message, err_len - 1);
  err[err_len - 1] = '\0';
}

// Runs `body`; on a C++ exception writes its message to `err` and returns 1.
template <typename F>
int guarded(char* err, size_t err_len, F body) {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    copy_message(e.what(), err, err_len);
  } catch (...) {
    copy_message("unknown C++ exception from ALE", err, err_len);
  }
  return 1;
}

}  // namespace

extern "C" {

// A new interface with Gymnasium's AtariEnv settings applied (in its order), no ROM loaded.
// `max_num_frames` <= 0 leaves ALE's default (no limit). Returns null on failure.
ale::ALEInterface* graft_ale_new(float repeat_action_probability, int max_num_frames, char* err,
                                 size_t err_len) {
  ale::ALEInterface* ale = nullptr;
  int status = guarded(err, err_len, [&] {
    // As ale-py's AtariEnv: only errors are logged (no welcome banner on stdout).
    ale::Logger::setMode(ale::Logger::Error);
    ale = new ale::ALEInterface();
    ale->setFloat("repeat_action_probability", repeat_action_probability);
    if (max_num_frames > 0) ale->setInt("max_num_frames_per_episode", max_num_frames);
    ale->setBool("sound_obs", false);
  });
  if (status != 0) {
    delete ale;
    return nullptr;
  }
  return ale;
}

void graft_ale_free(ale::ALEInterface* ale) { delete ale; }

// AtariEnv.seed_game's `setInt("random_seed", ale_seed)` then load_game: loadROM, then the mode
// and difficulty when given (has_* != 0).
int graft_ale_load(ale::ALEInterface* ale, int32_t random_seed, const char* rom_path,
                   int has_mode, int mode, int has_difficulty, int difficulty, char* err,
                   size_t err_len) {
  return guarded(err, err_len, [&] {
    ale->setInt("random_seed", random_seed);
    ale->loadROM(rom_path);
    if (has_mode) ale->setMode(static_cast<ale::game_mode_t>(mode));
    if (has_difficulty) ale->setDifficulty(static_cast<ale::difficulty_t>(difficulty));
  });
}

int graft_ale_reset(ale::ALEInterface* ale, char* err, size_t err_len) {
  return guarded(err, err_len, [&] { ale->reset_game(); });
}

// One emulator frame (ALE's own frame skip is 1 under Gymnasium); the reward into *reward.
int graft_ale_act(ale::ALEInterface* ale, int action, float strength, int32_t* reward, char* err,
                  size_t err_len) {
  return guarded(err, err_len, [&] {
    *reward = ale->act(static_cast<ale::Action>(action), strength);
  });
}

int graft_ale_game_over(const ale::ALEInterface* ale, int with_truncation) {
  return ale->game_over(with_truncation != 0) ? 1 : 0;
}

int graft_ale_game_truncated(const ale::ALEInterface* ale) {
  return ale->game_truncated() ? 1 : 0;
}

int graft_ale_lives(ale::ALEInterface* ale) { return ale->lives(); }

int graft_ale_frame_number(const ale::ALEInterface* ale) { return ale->getFrameNumber(); }

int graft_ale_episode_frame_number(const ale::ALEInterface* ale) {
  return ale->getEpisodeFrameNumber();
}

void graft_ale_screen_dims(const ale::ALEInterface* ale, int* height, int* width) {
  *height = static_cast<int>(ale->getScreen().height());
  *width = static_cast<int>(ale->getScreen().width());
}

// The screen as height*width*3 RGB bytes (out must hold them).
void graft_ale_screen_rgb(const ale::ALEInterface* ale, uint8_t* out) {
  const ale::ALEScreen& screen = ale->getScreen();
  ale->theOSystem->colourPalette().applyPaletteRGB(out, screen.getArray(),
                                                   screen.width() * screen.height());
}

// The screen as height*width luminance bytes, ALE's own grayscale palette.
void graft_ale_screen_grayscale(const ale::ALEInterface* ale, uint8_t* out) {
  const ale::ALEScreen& screen = ale->getScreen();
  ale->theOSystem->colourPalette().applyPaletteGrayscale(out, screen.getArray(),
                                                         screen.width() * screen.height());
}

size_t graft_ale_ram_size(const ale::ALEInterface* ale) { return ale->getRAM().size(); }

void graft_ale_ram(const ale::ALEInterface* ale, uint8_t* out) {
  const ale::ALERAM& ram = ale->getRAM();
  std::memcpy(out, ram.array(), ram.size());
}

// The minimal (full == 0) or legal (full != 0) action set as ALE action ids; returns how many
// there are and writes at most `cap` of them.
size_t graft_ale_action_set(const ale::ALEInterface* ale, int full, int* out, size_t cap) {
  ale::ActionVect actions = full ? ale->getLegalActionSet() : ale->getMinimalActionSet();
  for (size_t i = 0; i < actions.size() && i < cap; ++i) out[i] = static_cast<int>(actions[i]);
  return actions.size();
}

// The game's modes (which == 0) or difficulties (which != 0); returns how many, writes <= cap.
size_t graft_ale_modes(const ale::ALEInterface* ale, int which, int* out, size_t cap) {
  std::vector<unsigned> values;
  if (which == 0) {
    for (auto m : ale->getAvailableModes()) values.push_back(m);
  } else {
    for (auto d : ale->getAvailableDifficulties()) values.push_back(d);
  }
  for (size_t i = 0; i < values.size() && i < cap; ++i) out[i] = static_cast<int>(values[i]);
  return values.size();
}

}  // extern "C"
