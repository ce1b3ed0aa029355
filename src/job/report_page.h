#pragma once
/// The HTML page of run reports (src/job/report_page.html, compiled in): its data goes where
/// the page says /*SLUICE_REPORT_DATA*/.
///
/// Threading: a constant.

namespace sluice::job {

const char* ReportPageTemplate();

}  // namespace sluice::job
