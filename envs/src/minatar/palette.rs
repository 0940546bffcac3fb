//! [`palette`]: the colour of each observation channel in minatar's renderers.

/// The colour of each channel, as minatar's renderers draw it: seaborn's
/// `color_palette("cubehelix", n_channels)`, scaled to bytes and rounded (the float values
/// are in `tests/fixtures/minatar/palette.json`). Empty cells are black.
pub fn palette(channels: usize) -> &'static [[u8; 3]] {
    match channels {
        4 => &[[22, 61, 78], [84, 121, 47], [208, 126, 147], [193, 202, 243]],
        6 => &[
            [26, 36, 65],
            [27, 97, 69],
            [105, 123, 48],
            [200, 123, 124],
            [205, 162, 224],
            [198, 225, 241],
        ],
        7 => &[
            [27, 30, 59],
            [22, 83, 76],
            [68, 119, 49],
            [161, 121, 74],
            [212, 132, 169],
            [198, 180, 238],
            [203, 232, 240],
        ],
        10 => &[
            [25, 18, 43],
            [23, 52, 76],
            [24, 91, 72],
            [60, 118, 50],
            [126, 122, 54],
            [188, 121, 103],
            [212, 134, 175],
            [202, 169, 231],
            [194, 210, 243],
            [214, 240, 239],
        ],
        _ => &[],
    }
}
