package contract_test

import (
	"testing"

	"yorozu/domain/contract"
)

func TestSameCompanyName(t *testing.T) {
	const onContract = "株式会社大和商事"
	for _, tc := range []struct {
		given string
		same  bool
	}{
		{"株式会社大和商事", true},
		{" 株式会社 大和商事　", true},
		{"株式会社　大和商事", true},
		{"株式会社\t大和商事", true},
		{"(株)大和商事", false},
		{"㈱大和商事", false},
		{"大和商事", false},
		{"株式会社大和商事株式会社", false},
		{"", false},
	} {
		if got := contract.SameCompanyName(tc.given, onContract); got != tc.same {
			t.Errorf("SameCompanyName(%q, %q) = %v, want %v", tc.given, onContract, got, tc.same)
		}
	}
	// NFKC: full-width Latin and digits are their ASCII selves, case does not matter, half-width
	// katakana are full-width.
	for _, pair := range [][2]string{
		{"ＡＢＣ商事株式会社", "abc商事株式会社"},
		{"株式会社ＹＯＲＯＺＵ２４", "株式会社Yorozu24"},
		{"ﾔﾏﾄ運輸株式会社", "ヤマト運輸株式会社"},
	} {
		if !contract.SameCompanyName(pair[0], pair[1]) {
			t.Errorf("%q and %q should be the same name", pair[0], pair[1])
		}
	}
}

func TestIdentifiesCaller(t *testing.T) {
	active := contract.Contract{Status: contract.StatusActive, Contractor: contract.Contractor{Name: "株式会社大和商事"}}
	terminated := active
	terminated.Status = contract.StatusTerminated
	for _, tc := range []struct {
		name     string
		standing contract.Standing
		company  string
		want     contract.CallerRejection
	}{
		{"active, same name", contract.Standing{Contract: active, Known: true}, "株式会社 大和商事", ""},
		{"active, another name", contract.Standing{Contract: active, Known: true}, "株式会社大和物産", contract.CallerCompanyNameMismatch},
		{"terminated", contract.Standing{Contract: terminated, Known: true}, "株式会社大和商事", contract.CallerContractNotActive},
		{"not opened yet", contract.Standing{Known: true}, "株式会社大和商事", contract.CallerContractNotActive},
		{"no such contract", contract.Standing{}, "株式会社大和商事", contract.CallerUnknownCustomer},
		{"terminated and another name: inactive first", contract.Standing{Contract: terminated, Known: true}, "別会社", contract.CallerContractNotActive},
	} {
		if got := tc.standing.IdentifiesCaller(tc.company); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
