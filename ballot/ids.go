package ballot

// The syntax of identifiers (SPEC.md §4.1). These two functions are the only
// copies of the rules: the manifest, the credential derivation, the bulletin
// rules (§3.9 step 1) and the board nodes all call them, and tools/pyverify
// implements the same rules from SPEC.md (testdata/ids.json pins both).

// ValidElectionID reports whether id is an election ID (SPEC.md §4.1):
// 1..MaxElectionID bytes, each in 'a'–'z', '0'–'9' or '-'. The ID appears in
// the checkpoint origin (§3.8) and in every credential's key derivation (§5.2).
func ValidElectionID(id string) bool {
	return validID(id, MaxElectionID, false)
}

// ValidNodeID reports whether id is a board-node ID (SPEC.md §4.1): 1..MaxName
// bytes, each in 'A'–'Z', 'a'–'z', '0'–'9', '.', '_' or '-'. Such an ID is a
// valid signed-note key name (no space, no '+'), so it can name the node's
// checkpoint signatures (§3.8).
func ValidNodeID(id string) bool {
	return validID(id, MaxName, true)
}

// validID reports whether id is 1..max bytes of [a-z0-9-], plus [A-Z._] when
// wide is set.
func validID(id string, max int, wide bool) bool {
	if len(id) < 1 || len(id) > max {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
		case wide && (c >= 'A' && c <= 'Z' || c == '.' || c == '_'):
		default:
			return false
		}
	}
	return true
}
