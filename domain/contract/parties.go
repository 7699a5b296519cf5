// Package contract is the contract aggregate (docs/product.md): opened, changed and terminated only
// through orders, folded from its stream; and the customer numbers issued to new orders.
package contract

import "yorozu/domain/order"

// Contractor is the contracting company (契約者).
type Contractor struct {
	NameKana      string `json:"nameKana,omitempty"`
	Name          string `json:"name,omitempty"`
	PostalCode    string `json:"postalCode,omitempty"`
	Address       string `json:"address,omitempty"`
	AddressNumber string `json:"addressNumber,omitempty"`
	Building      string `json:"building,omitempty"`
	Floor         string `json:"floor,omitempty"`
}

// Contact is a person to call or write to.
type Contact struct {
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
}

// BillingAddress is where invoices go.
type BillingAddress struct {
	PostalCode    string `json:"postalCode,omitempty"`
	Address       string `json:"address,omitempty"`
	AddressNumber string `json:"addressNumber,omitempty"`
	Building      string `json:"building,omitempty"`
	Floor         string `json:"floor,omitempty"`
	RecipientKana string `json:"recipientKana,omitempty"`
	RecipientDept string `json:"recipientDept,omitempty"`
}

// SecurityContact is the customer's security person, who receives the reports.
type SecurityContact struct {
	NameKana   string `json:"nameKana,omitempty"`
	Name       string `json:"name,omitempty"`
	Department string `json:"department,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ContractorOf copies the form's contractor block.
func ContractorOf(c *order.Contractor) Contractor {
	if c == nil {
		return Contractor{}
	}
	return Contractor{NameKana: str(c.NameKana), Name: str(c.Name), PostalCode: str(c.PostalCode), Address: str(c.Address),
		AddressNumber: str(c.AddressNumber), Building: str(c.Building), Floor: str(c.Floor)}
}

// ContactOf copies a form's contact block.
func ContactOf(c *order.Contact) Contact {
	if c == nil {
		return Contact{}
	}
	return Contact{Name: str(c.Name), Phone: str(c.Phone), Email: str(c.Email)}
}

// BillingAddressOf copies the form's billing address block.
func BillingAddressOf(b *order.BillingAddress) BillingAddress {
	if b == nil {
		return BillingAddress{}
	}
	return BillingAddress{PostalCode: str(b.PostalCode), Address: str(b.Address), AddressNumber: str(b.AddressNumber),
		Building: str(b.Building), Floor: str(b.Floor), RecipientKana: str(b.RecipientKana), RecipientDept: str(b.RecipientDept)}
}

// SecurityContactOf copies the form's security contact block.
func SecurityContactOf(s *order.SecurityContact) SecurityContact {
	if s == nil {
		return SecurityContact{}
	}
	return SecurityContact{NameKana: str(s.NameKana), Name: str(s.Name), Department: str(s.Department), Phone: str(s.Phone), Email: str(s.Email)}
}
