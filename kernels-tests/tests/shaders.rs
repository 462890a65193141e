//! Every WGSL source parses and validates with naga, before any device sees it.

#[test]
fn every_shader_validates() {
    for (file, source) in grokgpu::gpu::shaders::ALL {
        let module = naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{file}: {}", e.emit_to_string(source)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
    }
}
