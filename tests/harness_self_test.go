package tests

import "testing"

// The id forms of spec §1.4, which dockerSweep relies on.
func TestHarnessIDForms(t *testing.T) {
	tests := []struct{ give, want string }{
		{"Uc9q4lfuYfE_AAA-", "51cf6ae257ee61f13f00003e"},
		{"51cf6ae257ee61f13f00003e", "51cf6ae257ee61f13f00003e"},
		{"51CF6AE257EE61F13F00003E", "51cf6ae257ee61f13f00003e"},
		{"shell (1)", ""},
		{"not-an-id-at-all-really", ""},
	}
	for _, tt := range tests {
		if got := idHex(tt.give); got != tt.want {
			t.Errorf("idHex(%q): got %q, want %q", tt.give, got, tt.want)
		}
	}
	s := &Server{seenIDs: map[string]bool{}}
	s.noteIDs([]byte(`[{"_id":"Uc9q4lfuYfE_AAA-","save":{"image":"51cf6ae257ee61f13f00003f"}}]`))
	s.noteIDs([]byte(`"/users/51cf6ae257ee61f13f000040/runnables/51cf6ae257ee61f13f000041"`))
	for _, want := range []string{"51cf6ae257ee61f13f00003e", "51cf6ae257ee61f13f00003f", "51cf6ae257ee61f13f000040", "51cf6ae257ee61f13f000041"} {
		if !s.seenIDs[want] {
			t.Errorf("noteIDs: %s not recorded; got %v", want, s.seenIDs)
		}
	}
}
