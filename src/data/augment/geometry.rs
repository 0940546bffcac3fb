//! Flips and rotations by multiples of 90°: exact pixel permutations. The rotation is the
//! pretext task of Gidaris et al., "Unsupervised Representation Learning by Predicting Image
//! Rotations" (ICLR 2018), where the network predicts `k` from the rotated image.

use super::frame::Frame;

/// Mirror left-right (torchvision's `hflip`).
pub fn hflip(f: &mut Frame) {
    let w = f.width;
    f.data.chunks_exact_mut(w).for_each(|row| row.reverse());
}

/// Rotate counter-clockwise by `k` quarter turns, as `torch.rot90(img, k, dims=[-2, -1])`;
/// `k` is taken modulo 4. Odd `k` swaps height and width.
pub fn rot90(f: &Frame, k: usize) -> Frame {
    let (c, h, w) = (f.channels, f.height, f.width);
    match k % 4 {
        0 => f.clone(),
        2 => {
            let mut out = f.clone();
            for ch in out.data.chunks_exact_mut(h * w) {
                ch.reverse();
            }
            out
        }
        k => {
            // Output is [C, w, h]; out[i][j] = in[j][w-1-i] (k = 1) or in[h-1-j][i] (k = 3).
            let mut out = Frame::zeros(c, w, h);
            for ch in 0..c {
                for i in 0..w {
                    for j in 0..h {
                        out.data[(ch * w + i) * h + j] =
                            if k == 1 { f.at(ch, j, w - 1 - i) } else { f.at(ch, h - 1 - j, i) };
                    }
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarter_turns_compose() {
        let f =
            Frame { data: (0..12).map(|x| x as f32).collect(), channels: 2, height: 2, width: 3 };
        let one = rot90(&f, 1);
        assert_eq!(one.shape(), [2, 3, 2]);
        // [[0,1,2],[3,4,5]] turned counter-clockwise: [[2,5],[1,4],[0,3]].
        assert_eq!(&one.data[..6], &[2.0, 5.0, 1.0, 4.0, 0.0, 3.0]);
        assert_eq!(rot90(&rot90(&f, 1), 1), rot90(&f, 2));
        assert_eq!(rot90(&rot90(&f, 3), 1), f);
        let mut m = f.clone();
        hflip(&mut m);
        assert_eq!(&m.data[..3], &[2.0, 1.0, 0.0]);
    }
}
