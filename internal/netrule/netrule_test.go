package netrule

import "testing"

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.8.9.10": true, "::1": true,
		"": false, "example.com": false, "10.0.0.1": false, "localhost.example.com": false, "::": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestIsCloudID(t *testing.T) {
	for id, want := range map[string]bool{
		"0b6c5d1e-7f2a-4c3b-9d8e-1a2b3c4d5e6f": true, "0B6C5D1E-7F2A-4C3B-9D8E-1A2B3C4D5E6F": true,
		"": false, "..": false, "not-a-uuid": false, "0b6c5d1e-7f2a-4c3b-9d8e-1a2b3c4d5e6": false,
		"0b6c5d1e-7f2a-4c3b-9d8e-1a2b3c4d5e6f0": false, "0b6c5d1e/7f2a-4c3b-9d8e-1a2b3c4d5e6f": false,
		"0b6c5d1e-7f2a-4c3b-9d8e-1a2b3c4d5e6g": false, "../../oauth/token-aaaa-bbbb-cccccccccccc": false,
	} {
		if got := IsCloudID(id); got != want {
			t.Errorf("IsCloudID(%q) = %v, want %v", id, got, want)
		}
	}
}
