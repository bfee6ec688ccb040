namespace Billing.Invoicing.Jobs;

/// <summary>Invoice lifecycle settings (section <c>Billing:Invoicing</c>).</summary>
public sealed class InvoicingOptions
{
    public const string Section = "Billing:Invoicing";

    /// <summary>How long after a month ends late usage may still join its invoice before it is issued.</summary>
    public TimeSpan FinalizationGrace { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long the draft job's runs are kept (<c>GET /v1/invoicing/runs</c>); a failing tenant stays in reconciliation until it rates.</summary>
    public TimeSpan RunRetention { get; set; } = TimeSpan.FromDays(30);
}
