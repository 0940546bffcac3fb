//! Pixel observations in a replay buffer, each distinct frame stored once.
//!
//! A replay buffer of frame stacks holds every frame many times: transition `t` keeps
//! `s_t = [f_{t-3}, …, f_t]` and `s_{t+n}`, and its neighbours keep the same frames shifted.
//! Storing stacks whole costs `2k` frames per transition (56 GB for CleanRL's 1M-transition
//! Atari DQN buffer); the Nature DQN and Dopamine keep each frame once and rebuild stacks on
//! sampling. [`FrameStore`] does the same without assuming anything about how frames follow
//! each other: frames are interned by content (a hash, then a byte comparison), counted by
//! reference, and freed when the last transition that uses them is overwritten. Consecutive
//! stacks, the successor that is the next transition's observation, the repeated first frame a
//! stack starts an episode with all share storage; a stream that shares nothing costs what
//! whole stacks cost, plus a few bytes a frame. Sampled batches are byte-identical to storing
//! the stacks whole (tested against that).

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::Hasher;

/// A reference-counted, content-addressed pool of equally sized frames, and the frames of each
/// stored observation.
#[derive(Debug, Clone)]
pub struct FrameStore {
    /// Bytes per frame.
    frame_len: usize,
    /// Frames per observation (a stack's depth; 1 for a single image).
    per_obs: usize,
    /// Frame bytes, slot after slot.
    data: Vec<u8>,
    /// References held on each slot (0: free).
    refs: Vec<u32>,
    /// Content hash of each slot.
    hashes: Vec<u64>,
    /// Free slots, reused before the pool grows.
    free: Vec<u32>,
    /// Content hash → slots holding frames with that hash.
    by_hash: HashMap<u64, Vec<u32>>,
}

impl FrameStore {
    /// An empty store for observations of `per_obs` frames of `frame_len` bytes each.
    pub fn new(frame_len: usize, per_obs: usize) -> Self {
        FrameStore {
            frame_len,
            per_obs: per_obs.max(1),
            data: Vec::new(),
            refs: Vec::new(),
            hashes: Vec::new(),
            free: Vec::new(),
            by_hash: HashMap::new(),
        }
    }

    /// Frames per observation.
    pub fn per_obs(&self) -> usize {
        self.per_obs
    }

    /// Distinct frames held.
    pub fn frames_held(&self) -> usize {
        self.refs.len() - self.free.len()
    }

    /// Store observation `obs` (`per_obs` frames back to back), writing the slots of its
    /// frames to `slots`; each slot gains a reference.
    ///
    /// # Panics
    /// If `obs` is not `per_obs` frames long or `slots` not `per_obs` wide.
    pub fn intern_obs(&mut self, obs: &[u8], slots: &mut [u32]) {
        assert_eq!(obs.len(), self.frame_len * self.per_obs, "frame store: observation size");
        for (frame, slot) in obs.chunks_exact(self.frame_len.max(1)).zip(slots.iter_mut()) {
            *slot = self.intern(frame);
        }
    }

    /// Drop one reference from each of `slots` (an overwritten observation's).
    pub fn release_obs(&mut self, slots: &[u32]) {
        for &s in slots {
            self.release(s);
        }
    }

    /// Append the observation whose frames are in `slots` to `out`.
    pub fn copy_obs(&self, slots: &[u32], out: &mut Vec<u8>) {
        for &s in slots {
            let at = s as usize * self.frame_len;
            out.extend_from_slice(&self.data[at..at + self.frame_len]);
        }
    }

    fn hash(frame: &[u8]) -> u64 {
        let mut h = DefaultHasher::new();
        h.write(frame);
        h.finish()
    }

    fn frame(&self, slot: u32) -> &[u8] {
        let at = slot as usize * self.frame_len;
        &self.data[at..at + self.frame_len]
    }

    /// The slot holding `frame`, with one more reference: an existing one with the same bytes,
    /// else a free or new slot.
    fn intern(&mut self, frame: &[u8]) -> u32 {
        let hash = Self::hash(frame);
        if let Some(slots) = self.by_hash.get(&hash) {
            if let Some(&s) = slots.iter().find(|&&s| self.frame(s) == frame) {
                self.refs[s as usize] += 1;
                return s;
            }
        }
        let slot = match self.free.pop() {
            Some(s) => {
                let at = s as usize * self.frame_len;
                self.data[at..at + self.frame_len].copy_from_slice(frame);
                self.refs[s as usize] = 1;
                self.hashes[s as usize] = hash;
                s
            }
            None => {
                let s = u32::try_from(self.refs.len()).expect("frame store: 2^32 frames");
                self.data.extend_from_slice(frame);
                self.refs.push(1);
                self.hashes.push(hash);
                s
            }
        };
        self.by_hash.entry(hash).or_default().push(slot);
        slot
    }

    fn release(&mut self, slot: u32) {
        let r = &mut self.refs[slot as usize];
        debug_assert!(*r > 0, "frame store: releasing a free slot");
        *r -= 1;
        if *r > 0 {
            return;
        }
        let hash = self.hashes[slot as usize];
        if let Some(slots) = self.by_hash.get_mut(&hash) {
            slots.retain(|&s| s != slot);
            if slots.is_empty() {
                self.by_hash.remove(&hash);
            }
        }
        self.free.push(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifted_stacks_share_frames_and_freed_slots_are_reused() {
        // Frames of 2 bytes, stacks of 3: [a b c] then [b c d] hold 4 distinct frames.
        let mut store = FrameStore::new(2, 3);
        let (a, b, c, d) = ([1u8, 1], [2u8, 2], [3u8, 3], [4u8, 4]);
        let mut s1 = [0u32; 3];
        let mut s2 = [0u32; 3];
        store.intern_obs(&[a, b, c].concat(), &mut s1);
        store.intern_obs(&[b, c, d].concat(), &mut s2);
        assert_eq!(store.frames_held(), 4);
        assert_eq!(&s1[1..], &s2[..2], "b and c are shared");
        let mut out = Vec::new();
        store.copy_obs(&s2, &mut out);
        assert_eq!(out, [b, c, d].concat());
        // Dropping the first stack frees `a` alone; the next new frame takes its slot.
        store.release_obs(&s1);
        assert_eq!(store.frames_held(), 3);
        let mut s3 = [0u32; 3];
        store.intern_obs(&[d, d, [9, 9]].concat(), &mut s3);
        assert_eq!(s3[2], s1[0], "the freed slot is reused");
        assert_eq!(store.frames_held(), 4);
        let mut out = Vec::new();
        store.copy_obs(&s3, &mut out);
        assert_eq!(out, [d, d, [9, 9]].concat());
    }
}
