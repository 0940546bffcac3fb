//! [`Grid`]: the 10x10xC boolean observation games write their state into, HWC or CHW.

/// A cleared 10x10xC boolean observation that games set cells in, HWC (minatar's `state()`
/// layout) or CHW.
///
/// The layout is kept as two strides rather than a flag, so setting a cell is one
/// multiply-add and a bounds check with no layout branch: this runs a dozen times per step.
#[derive(Debug)]
pub struct Grid<'a> {
    buf: &'a mut [u8],
    /// Distance between neighbouring cells: `C` for HWC, 1 for CHW.
    cell_stride: usize,
    /// Distance between neighbouring channels: 1 for HWC, 100 for CHW.
    chan_stride: usize,
}

impl<'a> Grid<'a> {
    /// A view over `buf` (length `100 * channels`), which must already be zeroed.
    #[inline]
    pub fn new(buf: &'a mut [u8], channels: usize, channels_first: bool) -> Self {
        let (cell_stride, chan_stride) = if channels_first { (1, 100) } else { (channels, 1) };
        Grid { buf, cell_stride, chan_stride }
    }

    /// Set cell (`y`, `x`) of channel `c`. Cells outside the buffer are ignored (the games
    /// never produce them).
    #[inline]
    pub fn set(&mut self, y: i32, x: i32, c: usize) {
        debug_assert!((0..10).contains(&y) && (0..10).contains(&x));
        self.set_cell((y * 10 + x) as usize, c);
    }

    /// Set cell number `cell` (`y * 10 + x`) of channel `c`; ignored outside the buffer.
    #[inline]
    pub fn set_cell(&mut self, cell: usize, c: usize) {
        let i = cell.wrapping_mul(self.cell_stride).wrapping_add(c * self.chan_stride);
        if let Some(v) = self.buf.get_mut(i) {
            *v = 1;
        }
    }

    /// Set cell (`y`, `x`) of channel `c` when `cond` holds, without a jump on `cond` (for
    /// conditions that are hard to predict); the cell must be on the grid either way.
    #[inline]
    pub fn set_if(&mut self, y: i32, x: i32, c: usize, cond: bool) {
        debug_assert!((0..10).contains(&y) && (0..10).contains(&x));
        let cell = (y * 10 + x) as usize;
        let i = cell.wrapping_mul(self.cell_stride).wrapping_add(c * self.chan_stride);
        if let Some(v) = self.buf.get_mut(i) {
            *v |= cond as u8;
        }
    }

    /// Store `on` into cell (`y`, `x`) of channel `c`, 0 included: for cells that no other
    /// write of the observation reaches (a gauge), where a plain store replaces a test.
    #[inline]
    pub fn put(&mut self, y: i32, x: i32, c: usize, on: bool) {
        debug_assert!((0..10).contains(&y) && (0..10).contains(&x));
        let cell = (y * 10 + x) as usize;
        let i = cell.wrapping_mul(self.cell_stride).wrapping_add(c * self.chan_stride);
        if let Some(v) = self.buf.get_mut(i) {
            *v = on as u8;
        }
    }

    /// Set every cell whose bit `y * 10 + x` is set in `mask`, in channel `c`.
    #[inline]
    pub fn set_mask(&mut self, mask: u128, c: usize) {
        for (half, base) in [(mask as u64, 0usize), ((mask >> 64) as u64, 64)] {
            let mut bits = half;
            while bits != 0 {
                self.set_cell(base + bits.trailing_zeros() as usize, c);
                bits &= bits - 1;
            }
        }
    }
}
