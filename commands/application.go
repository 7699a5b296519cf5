package commands

import (
	"errors"
	"io"

	"yorozu/domain/access"
	"yorozu/domain/billing"
	"yorozu/domain/calendar"
	"yorozu/domain/event"
	"yorozu/domain/insurance"
	"yorozu/domain/telemetry"
	"yorozu/projections/agents"
	"yorozu/projections/audit"
	"yorozu/projections/consultations"
	"yorozu/projections/contracts"
	"yorozu/projections/diagnoses"
	"yorozu/projections/failures"
	insurancerm "yorozu/projections/insurance"
	"yorozu/projections/invoices"
	"yorozu/projections/mailmagazine"
	"yorozu/projections/orders"
	"yorozu/projections/reports"
	"yorozu/projections/terminals"
	"yorozu/projections/webfiltering"
)

// Application is every use case of the service: what the HTTP layer, the schedulers and the
// operations tools call, as plain methods.
type Application struct {
	Commands Commands
	Queries  Queries
}

// Commands are the use cases that change something.
type Commands struct {
	AddStaff          AddStaffHandler
	LogIn             LogInHandler
	LogOut            LogOutHandler
	ChangeOwnPassword ChangeOwnPasswordHandler
	SetPassword       SetPasswordHandler
	DisableStaff      DisableStaffHandler
	EnableStaff       EnableStaffHandler
	UnlockStaff       UnlockStaffHandler
	ResetTOTP         ResetTOTPHandler
	CreateAPIKey      CreateAPIKeyHandler
	RevokeAPIKey      RevokeAPIKeyHandler

	SubmitOrder       SubmitOrderHandler
	AmendOrder        AmendOrderHandler
	AcceptOrder       AcceptOrderHandler
	SendOpeningNotice SendOpeningNoticeHandler
	CompleteOrder     CompleteOrderHandler
	WithdrawOrder     WithdrawOrderHandler
	CompleteDueOrders CompleteDueOrdersHandler

	RecordPersonalDataRead RecordPersonalDataReadHandler

	PublishPriceList PublishPriceListHandler
	CloseMonth       CloseMonthHandler
	CloseDueMonth    CloseDueMonthHandler

	SetWebFiltering         SetWebFilteringHandler
	AddWebFilteringEntry    AddWebFilteringEntryHandler
	RemoveWebFilteringEntry RemoveWebFilteringEntryHandler
	EndWebFilteringOption   EndWebFilteringOptionHandler

	PublishQuestionnaire  PublishQuestionnaireHandler
	SubmitDiagnosis       SubmitDiagnosisHandler
	RecordDiagnosisReport RecordDiagnosisReportHandler

	ScheduleMailMagazineIssue ScheduleMailMagazineIssueHandler
	DeliverMailMagazine       DeliverMailMagazineHandler
	ReceiveConsultation       ReceiveConsultationHandler
	TriageConsultation        TriageConsultationHandler
	AnswerConsultation        AnswerConsultationHandler
	CloseConsultation         CloseConsultationHandler
	ReopenConsultation        ReopenConsultationHandler
	QuoteTickets              QuoteTicketsHandler
	ReportFailure             ReportFailureHandler
	ResolveFailure            ResolveFailureHandler

	FileClaim                  FileClaimHandler
	AssessClaim                AssessClaimHandler
	PayClaim                   PayClaimHandler
	RejectClaim                RejectClaimHandler
	CompletePendingAssessments CompletePendingAssessmentsHandler
	IssueEnrollmentToken       IssueEnrollmentTokenHandler
	EnrollTerminal             EnrollTerminalHandler
	RetireTerminal             RetireTerminalHandler
	IngestTelemetry            IngestTelemetryHandler
	PublishCatalog             PublishCatalogHandler
	SealDueReports             SealDueReportsHandler
	ShredTerminated            ShredTerminatedHandler
	ExpireTelemetry            ExpireTelemetryHandler
}

// Queries read the read models (and, for auditors' replays, the log itself).
type Queries struct {
	Orders    orders.Queue
	Contracts contracts.Directory
	Replay    contracts.Replay
	Invoices  *invoices.View
	Audit     audit.Trail

	// WebFiltering reads a contract's policy from its stream (staff); WebFilteringPolicies is
	// every policy in memory (the agents' polls).
	WebFiltering         LoadWebFiltering
	WebFilteringPolicies *webfiltering.Policies
	Diagnoses            diagnoses.Queue
	MailRecipients       *mailmagazine.Recipients
	MailIssues           mailmagazine.IssueList
	// MailDelivering says whether the service sends the magazine (serve --smtp): without it
	// issues wait and are never late.
	MailDelivering bool
	Consultations  consultations.Desk
	Failures       failures.Log
	Insurance      insurancerm.Ledger
	Terminals      terminals.List
	Reports        *reports.View
	Agents         *agents.Directory
}

// Config is what the use cases are built from.
type Config struct {
	Events event.Streams
	// Codec names, encodes and decodes the domain events (schema.Registry()).
	Codec    *event.Registry
	Clock    Clock
	Calendar *calendar.BusinessCalendar
	// Access decides logins and sessions; its Secrets also seal the report passwords of orders.
	Access access.Policy
	// Random is crypto/rand.Reader in production.
	Random io.Reader
	// Hashing bounds the memory password hashing takes (NewPasswordHashing with the defaults
	// when nil); one per process.
	Hashing *PasswordHashing
	// Issuer is printed on final invoices; the zero Issuer refuses every month close.
	Issuer billing.Issuer
	// DueOrders and Closing are the read side the process manager and the month close decide
	// from.
	DueOrders DueOrders
	Closing   ClosingView
	// MailDelivery sends the mail magazine; without a Sender issues are not sent.
	MailDelivery MailDeliveryConfig
	// Insurance are the policy periods and limits of the cyber-risk insurance; what is left zero is
	// insurance.DefaultTerms'. PendingAssessments lists interrupted assessments to complete (nil:
	// none are looked for).
	Insurance          insurance.Terms
	PendingAssessments PendingAssessments
	// Telemetry wires the terminal, telemetry and report use cases; without Agents they are left
	// out (operations tools that do not serve agents).
	Telemetry TelemetryConfig
}

// TelemetryConfig is what the telemetry use cases are built from.
type TelemetryConfig struct {
	Agents      *agents.Directory
	Keys        telemetry.KeyRing
	Log         event.Log
	Maintenance event.Maintenance
	Reports     ReportsView
}

// Validate reports every missing part at once.
func (c Config) Validate() error {
	var errs []error
	for name, missing := range map[string]bool{
		"Events": c.Events == nil, "Codec": c.Codec == nil, "Clock": c.Clock == nil, "Calendar": c.Calendar == nil,
		"Access.Secrets": c.Access.Secrets == nil, "Random": c.Random == nil, "DueOrders": c.DueOrders == nil,
		"Closing": c.Closing == nil,
	} {
		if missing {
			errs = append(errs, errors.New("commands: Config."+name+" is required"))
		}
	}
	errs = append(errs, c.Insurance.WithDefaults().Validate())
	return errors.Join(errs...)
}

// NewCommands builds every use case.
func NewCommands(c Config) (Commands, error) {
	if err := c.Validate(); err != nil {
		return Commands{}, err
	}
	deps := Deps{Events: c.Events, Codec: c.Codec, Clock: c.Clock}
	hashing := c.Hashing
	if hashing == nil {
		hashing = NewPasswordHashing(HashingConfig{}, c.Access.Password)
	}
	acc := AccessDeps{Deps: deps, Policy: c.Access, Random: c.Random, Hashing: hashing}
	od := NewOrderDeps(deps, c.Calendar, c.Access.Secrets, c.Random)
	closeMonth := NewCloseMonthHandler(deps, c.Closing, c.Issuer)
	dd := NewDiagnosisDeps(deps, c.Calendar)
	desk := HelpDeskDeps{Deps: deps, Calendar: c.Calendar}
	cover := InsuranceDeps{Deps: deps, Terms: c.Insurance.WithDefaults()}
	td := TelemetryDeps{Deps: deps, Agents: c.Telemetry.Agents, Keys: c.Telemetry.Keys, Log: c.Telemetry.Log,
		Maintenance: c.Telemetry.Maintenance, Reports: c.Telemetry.Reports, Random: c.Random}
	return Commands{
		AddStaff:          NewAddStaffHandler(acc),
		LogIn:             NewLogInHandler(acc),
		LogOut:            NewLogOutHandler(acc),
		ChangeOwnPassword: NewChangeOwnPasswordHandler(acc),
		SetPassword:       NewSetPasswordHandler(acc),
		DisableStaff:      NewDisableStaffHandler(acc),
		EnableStaff:       NewEnableStaffHandler(acc),
		UnlockStaff:       NewUnlockStaffHandler(acc),
		ResetTOTP:         NewResetTOTPHandler(acc),
		CreateAPIKey:      NewCreateAPIKeyHandler(acc),
		RevokeAPIKey:      NewRevokeAPIKeyHandler(acc),

		SubmitOrder:       NewSubmitOrderHandler(od),
		AmendOrder:        NewAmendOrderHandler(od),
		AcceptOrder:       NewAcceptOrderHandler(od),
		SendOpeningNotice: NewSendOpeningNoticeHandler(od),
		CompleteOrder:     NewCompleteOrderHandler(od),
		WithdrawOrder:     NewWithdrawOrderHandler(od),
		CompleteDueOrders: NewCompleteDueOrdersHandler(od, c.DueOrders),

		RecordPersonalDataRead: NewRecordPersonalDataReadHandler(deps),

		PublishPriceList: NewPublishPriceListHandler(deps),
		CloseMonth:       closeMonth,
		CloseDueMonth:    NewCloseDueMonthHandler(closeMonth, c.Calendar, c.Clock),

		SetWebFiltering:         NewSetWebFilteringHandler(deps),
		AddWebFilteringEntry:    NewAddWebFilteringEntryHandler(deps),
		RemoveWebFilteringEntry: NewRemoveWebFilteringEntryHandler(deps),
		EndWebFilteringOption:   NewEndWebFilteringOptionHandler(deps),

		PublishQuestionnaire:  NewPublishQuestionnaireHandler(deps),
		SubmitDiagnosis:       NewSubmitDiagnosisHandler(dd),
		RecordDiagnosisReport: NewRecordDiagnosisReportHandler(dd),

		ScheduleMailMagazineIssue: NewScheduleMailMagazineIssueHandler(deps),
		DeliverMailMagazine:       NewDeliverMailMagazineHandler(deps, c.MailDelivery),
		ReceiveConsultation:       NewReceiveConsultationHandler(desk),
		TriageConsultation:        NewTriageConsultationHandler(deps),
		AnswerConsultation:        NewAnswerConsultationHandler(deps),
		CloseConsultation:         NewCloseConsultationHandler(deps),
		ReopenConsultation:        NewReopenConsultationHandler(desk),
		QuoteTickets:              NewQuoteTicketsHandler(deps),
		ReportFailure:             NewReportFailureHandler(deps),
		ResolveFailure:            NewResolveFailureHandler(deps),

		FileClaim:                  NewFileClaimHandler(cover),
		AssessClaim:                NewAssessClaimHandler(cover),
		PayClaim:                   NewPayClaimHandler(deps),
		RejectClaim:                NewRejectClaimHandler(deps),
		CompletePendingAssessments: NewCompletePendingAssessmentsHandler(cover, c.PendingAssessments),
		IssueEnrollmentToken:       NewIssueEnrollmentTokenHandler(td),
		EnrollTerminal:             NewEnrollTerminalHandler(td),
		RetireTerminal:             NewRetireTerminalHandler(td),
		IngestTelemetry:            NewIngestTelemetryHandler(td),
		PublishCatalog:             NewPublishCatalogHandler(deps),
		SealDueReports:             NewSealDueReportsHandler(td),
		ShredTerminated:            NewShredTerminatedHandler(td),
		ExpireTelemetry:            NewExpireTelemetryHandler(td),
	}, nil
}
