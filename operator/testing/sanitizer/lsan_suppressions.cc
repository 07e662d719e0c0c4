// Built into every test binary of a sanitizer tree (sg_test adds it when
// SG_SANITIZE is set): leaks LeakSanitizer must not count because they are
// not ours to fix.

extern "C" {

// RapidJSON 1.1's schema compiler loses a few property-name strings it copies
// while collecting `properties` and `required` (Schema::AddUniqueElement). It
// happens once per process, when crds/schema.cc compiles the embedded
// schemas.
const char* __lsan_default_suppressions() { return "leak:AddUniqueElement\n"; }

}  // extern "C"
