//! GPU buffers of 4-byte elements (f32 or u32) and the only ways data crosses
//! between host and device: uploads at setup, readbacks at eval.

use std::sync::Arc;

use super::device::Gpu;

/// `len` 4-byte elements starting `offset` elements into a storage or uniform buffer.
/// Clones share the buffer; [`Buffer::slice`] views a range of it (e.g. one tensor of
/// the flat parameter buffer).
#[derive(Clone, Debug)]
pub struct Buffer {
    pub raw: Arc<wgpu::Buffer>,
    pub offset: usize,
    pub len: usize,
}

/// Slices of a buffer must start on this many elements so they can be bound on their
/// own: 1 KiB satisfies every adapter's storage offset alignment (at most 256 bytes)
/// and lets 256-wide workgroups never straddle two slices.
pub const SLICE_ALIGN: usize = 256;

impl Buffer {
    pub fn bytes(&self) -> u64 {
        (self.len * 4) as u64
    }

    /// The sub-range [start, start + len) of this buffer; `start` must be a multiple
    /// of [`SLICE_ALIGN`].
    pub fn slice(&self, start: usize, len: usize) -> Buffer {
        assert!(start.is_multiple_of(SLICE_ALIGN), "buffer slices start on {SLICE_ALIGN}-element boundaries");
        assert!(start + len <= self.len, "slice past the end of a buffer");
        Buffer { raw: self.raw.clone(), offset: self.offset + start, len }
    }

    /// Whether the two views share any element (then one dispatch must not write both).
    pub fn overlaps(&self, other: &Buffer) -> bool {
        Arc::ptr_eq(&self.raw, &other.raw) && self.offset < other.offset + other.len && other.offset < self.offset + self.len
    }

    pub fn binding(&self) -> wgpu::BindingResource<'_> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &self.raw,
            offset: (self.offset * 4) as u64,
            size: std::num::NonZeroU64::new(self.bytes().max(4)),
        })
    }
}

const STORAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

impl Gpu {
    fn create(&self, label: &str, bytes: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
        Gpu::count(&self.counters.buffers_created);
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            // wgpu rejects zero-sized bindings; an empty tensor still gets one element.
            size: bytes.max(4),
            usage,
            mapped_at_creation: false,
        })
    }

    /// A zero-filled storage buffer of `len` elements.
    pub fn buffer(&self, label: &str, len: usize) -> Buffer {
        let raw = self.create(label, (len * 4) as u64, STORAGE);
        Buffer { raw: Arc::new(raw), offset: 0, len }
    }

    /// A storage buffer holding `data` (f32 or u32 or any 4-byte POD).
    pub fn buffer_from<T: bytemuck::Pod>(&self, label: &str, data: &[T]) -> Buffer {
        assert_eq!(std::mem::size_of::<T>(), 4, "grokgpu buffers hold 4-byte elements");
        let buf = self.buffer(label, data.len());
        self.write(&buf, data);
        buf
    }

    /// A uniform buffer holding one POD parameter block (dimensions, flags).
    pub fn uniform<T: bytemuck::Pod>(&self, label: &str, params: &T) -> Buffer {
        let bytes = bytemuck::bytes_of(params);
        // Uniform blocks are padded to 16 bytes so any std140-style struct fits.
        let size = bytes.len().div_ceil(16) * 16;
        let raw = self.create(label, size as u64, wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST);
        let mut padded = bytes.to_vec();
        padded.resize(size, 0);
        self.queue.write_buffer(&raw, 0, &padded);
        Buffer { raw: Arc::new(raw), offset: 0, len: size / 4 }
    }

    /// Overwrites the start of `buf` with `data` (setup and per-epoch uploads only).
    pub fn write<T: bytemuck::Pod>(&self, buf: &Buffer, data: &[T]) {
        assert!(std::mem::size_of_val(data) <= buf.bytes() as usize, "write past the end of a buffer");
        if !data.is_empty() {
            self.queue.write_buffer(&buf.raw, (buf.offset * 4) as u64, bytemuck::cast_slice(data));
        }
    }

    /// Copies a buffer back to the host. Waits for the GPU; never inside a step.
    pub fn read<T: bytemuck::Pod>(&self, buf: &Buffer) -> Vec<T> {
        Gpu::count(&self.counters.readbacks);
        let bytes = buf.bytes();
        let staging = self.create("readback", bytes, wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(&buf.raw, (buf.offset * 4) as u64, &staging, 0, bytes);
        self.queue.submit([encoder.finish()]);
        let slice = staging.slice(..);
        slice.map_async(wgpu::MapMode::Read, |r| r.expect("mapping a readback buffer failed"));
        self.wait();
        let view = slice.get_mapped_range().expect("readback buffer was not mapped");
        let out = bytemuck::cast_slice::<u8, T>(&view[..buf.len * 4]).to_vec();
        drop(view);
        staging.unmap();
        out
    }

    pub fn read_f32(&self, buf: &Buffer) -> Vec<f32> {
        self.read(buf)
    }

    pub fn read_u32(&self, buf: &Buffer) -> Vec<u32> {
        self.read(buf)
    }
}
