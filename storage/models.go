package storage

// Rows as stored. Instants are Unix milliseconds (int64) so that expiry
// comparisons in SQL behave the same on SQLite and PostgreSQL; lists are JSON
// text.

type clientRow struct {
	ID                     string   `gorm:"primaryKey;size:128"`
	Name                   string   `gorm:"size:200;not null"`
	SecretHash             string   `gorm:"size:128"`
	Public                 bool     `gorm:"not null"`
	RedirectURIs           []string `gorm:"serializer:json;type:text"`
	PostLogoutRedirectURIs []string `gorm:"serializer:json;type:text"`
	Scopes                 []string `gorm:"serializer:json;type:text"`
	AccessTokenTTLMS       int64
	IDTokenTTLMS           int64
	RefreshTokenTTLMS      int64
	LicenseChainID         int64
	Signers                []string `gorm:"serializer:json;type:text"`
	NoHeadless             bool     `gorm:"not null;default:false"`
	Profile                string   `gorm:"size:32;not null;default:''"`
	AgentRegistries        []string `gorm:"serializer:json;type:text"`
	AgentOffline           bool     `gorm:"not null;default:false"`
	CreatedAt              int64    `gorm:"autoCreateTime:false"`
	UpdatedAt              int64    `gorm:"autoUpdateTime:false"`
}

func (clientRow) TableName() string { return "clients" }

type challengeRow struct {
	ID            string   `gorm:"primaryKey;size:64"`
	Nonce         string   `gorm:"size:64;uniqueIndex;not null"`
	Message       string   `gorm:"type:text;not null"`
	Address       string   `gorm:"size:42;not null"`
	ChainID       int64    `gorm:"not null"`
	ClientID      string   `gorm:"size:128;not null"`
	Scopes        []string `gorm:"serializer:json;type:text"`
	RedirectURI   string   `gorm:"type:text"`
	AuthRequestID string   `gorm:"size:64"`
	IssuedAt      int64    `gorm:"not null"`
	ExpiresAt     int64    `gorm:"not null;index"`
	UsedAt        int64    `gorm:"not null;default:0"`
	// Account lists a challenge under its account (siwe.Challenge
	// ByAccount): a Stellar account ID, or an EIP-55 address; empty, and
	// outside the partial index, for every other challenge (open.go).
	Account string `gorm:"size:64;not null;default:'';index:,where:account <> ''"`
}

func (challengeRow) TableName() string { return "challenges" }

type loginRow struct {
	ID        string   `gorm:"primaryKey;size:64"`
	Subject   string   `gorm:"size:128;not null"`
	Address   string   `gorm:"size:42;not null"`
	ChainID   int64    `gorm:"not null"`
	Signer    string   `gorm:"size:42"`
	Name      string   `gorm:"size:255"`
	Message   string   `gorm:"type:text"`
	Signature string   `gorm:"type:text"`
	AMR       []string `gorm:"serializer:json;type:text"`
	AuthTime  int64    `gorm:"not null"`
	ExpiresAt int64    `gorm:"not null;index"`
	// The agent of an agent sign-in (SIWA); empty for any other.
	AgentRegistry string `gorm:"size:128;not null;default:''"`
	AgentID       int64  `gorm:"not null;default:0"`
	AgentVerified string `gorm:"size:16;not null;default:''"`
	AgentName     string `gorm:"type:text"`
	AgentServices string `gorm:"type:text"`
}

func (loginRow) TableName() string { return "logins" }

type authRequestRow struct {
	ID                  string   `gorm:"primaryKey;size:64"`
	ClientID            string   `gorm:"size:128;not null"`
	RedirectURI         string   `gorm:"type:text;not null"`
	State               string   `gorm:"type:text"`
	Nonce               string   `gorm:"type:text"`
	ResponseType        string   `gorm:"size:64"`
	ResponseMode        string   `gorm:"size:64"`
	Scopes              []string `gorm:"serializer:json;type:text"`
	Prompt              []string `gorm:"serializer:json;type:text"`
	LoginHint           string   `gorm:"type:text"`
	CodeChallenge       string   `gorm:"size:128"`
	CodeChallengeMethod string   `gorm:"size:16"`
	BindingHash         string   `gorm:"size:64;not null;default:''"`
	MaxAge              *int64
	CreatedAt           int64   `gorm:"not null"`
	ExpiresAt           int64   `gorm:"not null;index"`
	LoginID             string  `gorm:"size:64"`
	CodeHash            *string `gorm:"size:64;uniqueIndex"`
	CodeExpiresAt       int64   `gorm:"not null;default:0"`
	CodeUsedAt          int64   `gorm:"not null;default:0"`
}

func (authRequestRow) TableName() string { return "auth_requests" }

// tokenRow: headless sign-ins have neither an authorization request nor a
// refresh family, so the partial indexes on those two columns leave their
// tokens out, which saves every such sign-in two index writes. Queries on
// these columns repeat the condition (not empty) so that the planner uses
// them.
type tokenRow struct {
	ID             string   `gorm:"primaryKey;size:64"`
	Kind           string   `gorm:"size:16;not null"`
	ClientID       string   `gorm:"size:128;not null;index:idx_tokens_subject_client,priority:2"`
	Subject        string   `gorm:"size:128;not null;index:idx_tokens_subject_client,priority:1"`
	Audience       []string `gorm:"serializer:json;type:text"`
	Scopes         []string `gorm:"serializer:json;type:text"`
	LoginID        string   `gorm:"size:64;not null;index"`
	AuthRequestID  string   `gorm:"size:64;index:,where:auth_request_id <> ''"`
	FamilyID       string   `gorm:"size:64;index:,where:family_id <> ''"`
	RefreshTokenID string   `gorm:"size:64"`
	CreatedAt      int64    `gorm:"not null"`
	ExpiresAt      int64    `gorm:"not null;index"`
	UsedAt         int64    `gorm:"not null;default:0"`
	RevokedAt      int64    `gorm:"not null;default:0"`
}

func (tokenRow) TableName() string { return "tokens" }

type signingKeyRow struct {
	ID         string `gorm:"primaryKey;size:64"`
	Algorithm  string `gorm:"size:16;not null"`
	PublicJWK  []byte `gorm:"not null"`
	PrivateKey []byte `gorm:"not null"`
	CreatedAt  int64  `gorm:"not null"`
	ActiveAt   int64  `gorm:"not null"`
	RetiredAt  int64  `gorm:"not null;default:0"`
	// DropAt is when the public key leaves the JWKS: the retirement time plus
	// the longest token lifetime; 0 while the key is still in use.
	DropAt int64 `gorm:"not null;default:0"`
}

func (signingKeyRow) TableName() string { return "signing_keys" }

type settingRow struct {
	Name      string `gorm:"primaryKey;size:64"`
	Value     []byte `gorm:"not null"`
	CreatedAt int64  `gorm:"not null"`
}

func (settingRow) TableName() string { return "settings" }
