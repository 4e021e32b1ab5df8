//! File downloads written as they are produced: Rails' `send_stream`, with Rails' headers,
//! any filename made safe, and an optional declared length that is checked.

use std::future::Future;

use http::header::{self, HeaderValue};

use crate::error::{Error, Result};
use crate::response::Live;
use crate::stream::LiveStream;

/// How the browser should present a download.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Disposition {
    /// Save it as a file (the default).
    #[default]
    Attachment,
    /// Show it in the browser if it can.
    Inline,
}

impl Disposition {
    fn as_str(self) -> &'static str {
        match self {
            Disposition::Attachment => "attachment",
            Disposition::Inline => "inline",
        }
    }
}

/// A download's name, disposition, type and, if known, length: the options of Rails'
/// `send_stream(filename:, disposition:, type:)`.
///
/// ```
/// use live_runtime::send_stream::Download;
/// let csv = Download::new("export.csv");                       // text/csv, attachment
/// let json = Download::new("export").inline().extension("json"); // application/json
/// let exact = Download::new("data").content_type("text/csv");   // exactly "text/csv"
/// let sized = Download::new("blob.bin").length(1024);           // Content-Length: 1024
/// # let _ = (csv, json, exact, sized);
/// ```
#[derive(Debug, Clone)]
pub struct Download {
    filename: String,
    disposition: Disposition,
    content_type: Option<String>,
    length: Option<u64>,
}

impl Download {
    /// A download named `filename`; its type comes from the name's extension unless set.
    pub fn new(filename: impl Into<String>) -> Self {
        Download {
            filename: filename.into(),
            disposition: Disposition::Attachment,
            content_type: None,
            length: None,
        }
    }

    /// Sets the disposition.
    #[must_use]
    pub fn disposition(mut self, disposition: Disposition) -> Self {
        self.disposition = disposition;
        self
    }

    /// `Content-Disposition: inline`.
    #[must_use]
    pub fn inline(self) -> Self {
        self.disposition(Disposition::Inline)
    }

    /// The exact `Content-Type`, a string or a `mime::Mime` (Rails' `type: "text/csv"`).
    #[must_use]
    pub fn content_type(mut self, content_type: impl AsRef<str>) -> Self {
        self.content_type = Some(content_type.as_ref().to_owned());
        self
    }

    /// The type registered for an extension (Rails' `type: :csv`); unknown extensions give
    /// `application/octet-stream`.
    #[must_use]
    pub fn extension(mut self, extension: &str) -> Self {
        self.content_type = Some(type_of_extension(extension).to_owned());
        self
    }

    /// Declares the length in bytes: `Content-Length` is sent, and writing more, or ending
    /// with less, fails with [`ErrorKind::LengthMismatch`](crate::ErrorKind::LengthMismatch)
    /// and aborts the connection, so the client sees an incomplete download, not a short one.
    /// Whatever the timing: the last declared byte goes out only when the stream closes, so
    /// a write past the length, however late, still aborts an unfinished response.
    #[must_use]
    pub fn length(mut self, length: u64) -> Self {
        self.length = Some(length);
        self
    }

    /// The `Content-Disposition` value this download is sent with: Rails' format, an ASCII
    /// fallback name and the RFC 5987 UTF-8 name, safe for any filename (quotes, backslashes,
    /// `;` and line breaks are percent-escaped, so no name can break out of the header).
    ///
    /// ```
    /// use live_runtime::send_stream::Download;
    /// assert_eq!(
    ///     Download::new("my file.csv").content_disposition(),
    ///     "attachment; filename=\"my file.csv\"; filename*=UTF-8''my%20file.csv"
    /// );
    /// ```
    pub fn content_disposition(&self) -> String {
        content_disposition(self.disposition, &self.filename)
    }

    fn resolved_type(&self) -> String {
        self.content_type.clone().unwrap_or_else(|| {
            let extension = self.filename.rsplit_once('.').map_or("", |(_, ext)| ext);
            type_of_extension(extension).to_owned()
        })
    }
}

fn type_of_extension(extension: &str) -> &'static str {
    mime_guess::from_ext(&extension.to_ascii_lowercase())
        .first_raw()
        .unwrap_or("application/octet-stream")
}

impl Live {
    /// Streams a download (Rails' `send_stream`): sets `Content-Type`, `Content-Disposition`
    /// (and `Content-Length` if declared), hands the stream to `write`, and closes it however
    /// `write` ends. Emits a `tracing` event `send_stream` with the filename, disposition and
    /// type (Rails' `send_stream.action_controller`).
    ///
    /// ```
    /// # async fn action(live: live_runtime::Live) -> live_runtime::Result {
    /// use live_runtime::send_stream::Download;
    /// live.send_stream(Download::new("subscribers.csv"), |mut stream| async move {
    ///     stream.writeln("name,age").await?;
    ///     stream.writeln("david,41").await?;
    ///     Ok(())
    /// })
    /// .await
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidHeader`](crate::ErrorKind::InvalidHeader) for a content type that
    /// cannot be a header; whatever `write` returns.
    pub async fn send_stream<F, Fut>(mut self, download: Download, write: F) -> Result
    where
        F: FnOnce(LiveStream) -> Fut,
        Fut: Future<Output = Result>,
    {
        let content_type = download.resolved_type();
        let disposition = download.content_disposition();
        tracing::info!(
            filename = %download.filename,
            disposition = download.disposition.as_str(),
            content_type = %content_type,
            "send_stream"
        );
        self.set_header(header::CONTENT_TYPE, content_type.as_str())?;
        let disposition = HeaderValue::try_from(disposition).map_err(Error::invalid_header)?;
        self.headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition);
        let mut stream = self.stream();
        stream.expect_length(download.length);
        let state = stream.shared();
        let result = write(stream).await;
        // Always closed, as Rails' `ensure`; an error is left for the action to return.
        state.close();
        result
    }
}

/// Rails' `ActionDispatch::Http::ContentDisposition.format`: an ASCII fallback name
/// (transliterated, then percent-escaped) and the RFC 5987 UTF-8 name. Quotes, backslashes,
/// line breaks and `;` are always escaped, so no filename can break out of the header.
fn content_disposition(disposition: Disposition, filename: &str) -> String {
    const FALLBACK_KEEPS: &[u8] = b" !#$+.^_`|~-";
    const RFC_5987_KEEPS: &[u8] = b"!#$&+.^_`|~-";
    format!(
        "{}; filename=\"{}\"; filename*=UTF-8''{}",
        disposition.as_str(),
        percent_escape(&transliterate(filename), FALLBACK_KEEPS),
        percent_escape(filename, RFC_5987_KEEPS)
    )
}

fn percent_escape(text: &str, keeps: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || keeps.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Like `I18n.transliterate` with its default table: Latin letters lose their accents,
/// anything else becomes `?`.
fn transliterate(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            _ if c.is_ascii() => c.to_string(),
            'À'..='Å' => "A".into(),
            'à'..='å' => "a".into(),
            'Æ' => "AE".into(),
            'æ' => "ae".into(),
            'Ç' => "C".into(),
            'ç' => "c".into(),
            'È'..='Ë' => "E".into(),
            'è'..='ë' => "e".into(),
            'Ì'..='Ï' => "I".into(),
            'ì'..='ï' => "i".into(),
            'Ð' => "D".into(),
            'ð' => "d".into(),
            'Ñ' => "N".into(),
            'ñ' => "n".into(),
            'Ò'..='Ö' | 'Ø' => "O".into(),
            'ò'..='ö' | 'ø' => "o".into(),
            'Ù'..='Ü' => "U".into(),
            'ù'..='ü' => "u".into(),
            'Ý' => "Y".into(),
            'ý' | 'ÿ' => "y".into(),
            'Þ' => "Th".into(),
            'þ' => "th".into(),
            'ß' => "ss".into(),
            'Œ' => "OE".into(),
            'œ' => "oe".into(),
            _ => "?".into(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rails_disposition_bytes() {
        assert_eq!(
            content_disposition(Disposition::Attachment, "my.csv"),
            "attachment; filename=\"my.csv\"; filename*=UTF-8''my.csv"
        );
        assert_eq!(
            content_disposition(Disposition::Inline, "export"),
            "inline; filename=\"export\"; filename*=UTF-8''export"
        );
        assert_eq!(
            content_disposition(Disposition::Attachment, "my file.csv"),
            "attachment; filename=\"my file.csv\"; filename*=UTF-8''my%20file.csv"
        );
    }

    #[test]
    fn hostile_and_non_ascii_names_are_safe() {
        let value = content_disposition(Disposition::Attachment, "a\"b\\c;d\r\ne.csv");
        assert_eq!(
            value,
            "attachment; filename=\"a%22b%5Cc%3Bd%0D%0Ae.csv\"; filename*=UTF-8''a%22b%5Cc%3Bd%0D%0Ae.csv"
        );
        assert!(HeaderValue::try_from(value).is_ok());
        assert_eq!(
            content_disposition(Disposition::Attachment, "résumé 日本.pdf"),
            "attachment; filename=\"resume %3F%3F.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E6%97%A5%E6%9C%AC.pdf"
        );
    }

    #[test]
    fn content_types() {
        assert_eq!(Download::new("my.csv").resolved_type(), "text/csv");
        assert_eq!(Download::new("MY.CSV").resolved_type(), "text/csv");
        assert_eq!(
            Download::new("export").resolved_type(),
            "application/octet-stream"
        );
        assert_eq!(
            Download::new("export").extension("json").resolved_type(),
            "application/json"
        );
        assert_eq!(
            Download::new("x.csv")
                .content_type("text/plain")
                .resolved_type(),
            "text/plain"
        );
        assert_eq!(
            Download::new("x").extension("nope-nope").resolved_type(),
            "application/octet-stream"
        );
    }
}
