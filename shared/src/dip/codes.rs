//! The DIP's MSG response codes (Elexon's ResponseCodes, DI-999) the send API answers with,
//! and their `"MSGxxxx - text"` form in a StandardResponse item.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    Success,
    ProcessingFailed,
    SchemaFailure,
    SenderUniqueReferenceDuplicated,
    SenderTimestampInvalid,
    SenderInvalid,
    SenderRoleInvalid,
    ConnectionProviderInvalid,
    AddressingError,
    PrimaryRecipientInvalid,
    PrimaryRecipientRoleInvalid,
    SecondaryUnresolved,
}

impl Msg {
    pub fn code(self) -> &'static str {
        match self {
            Msg::Success => "MSG0000",
            Msg::ProcessingFailed => "MSG1000",
            Msg::SchemaFailure => "MSG1001",
            Msg::SenderUniqueReferenceDuplicated => "MSG1006",
            Msg::SenderTimestampInvalid => "MSG1007",
            Msg::SenderInvalid => "MSG1009",
            Msg::SenderRoleInvalid => "MSG1010",
            Msg::ConnectionProviderInvalid => "MSG1011",
            Msg::AddressingError => "MSG1030",
            Msg::PrimaryRecipientInvalid => "MSG1031",
            Msg::PrimaryRecipientRoleInvalid => "MSG1032",
            Msg::SecondaryUnresolved => "MSG1038",
        }
    }

    /// The item's `message`: the code and its name in Elexon's code list.
    pub fn message(self) -> &'static str {
        match self {
            Msg::Success => "MSG0000 - Success",
            Msg::ProcessingFailed => "MSG1000 - Message Processing Failed",
            Msg::SchemaFailure => "MSG1001 - Schema Failure",
            Msg::SenderUniqueReferenceDuplicated => "MSG1006 - Sender Unique Reference Duplicated",
            Msg::SenderTimestampInvalid => "MSG1007 - Sender Timestamp Invalid",
            Msg::SenderInvalid => "MSG1009 - Sender DIP ID Invalid",
            Msg::SenderRoleInvalid => "MSG1010 - Sender Role Invalid",
            Msg::ConnectionProviderInvalid => "MSG1011 - Connection Provider ID Invalid",
            Msg::AddressingError => "MSG1030 - Msg Addressing / Routing Error",
            Msg::PrimaryRecipientInvalid => "MSG1031 - Primary Recipient(s) DIP Participant ID Invalid",
            Msg::PrimaryRecipientRoleInvalid => "MSG1032 - Primary Recipient(s) DIP Role ID Invalid",
            Msg::SecondaryUnresolved => "MSG1038 - Cannot Resolve Secondary Recipient(s) for MPAN/Party/Event Combination",
        }
    }
}
